"""Route modules: member pages and API, staff console and API, demo sign-in, health."""
