"""Signed C2PA test assets, made here: a throwaway CA and signer (cryptography) and c2pa-python's Builder.

Nothing is fetched: the certificate chain is generated for the test, so the
manifests validate (their signer is untrusted, which does not matter here).
"""

from __future__ import annotations

import datetime
import io
import struct
import zlib
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def png(width: int = 8, height: int = 8) -> bytes:
    """A tiny valid PNG."""
    raw = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _usage(**flags: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement")
    names += ("key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{n: flags.get(n, False) for n in names})


def _cert(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey] | None
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, subject),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Consentry tests"),
        ]
    )
    issuer_name = (
        name
        if issuer is None
        else x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, issuer[0]),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Consentry tests"),
            ]
        )
    )
    signing_key = key if issuer is None else issuer[1]
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is None:  # the CA
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        builder = builder.add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(_usage(digital_signature=True), critical=True)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key())
        builder = builder.add_extension(aki, critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def signer() -> c2pa.Signer:
    """An ES256 signer with a freshly made certificate chain (signer, then CA)."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Consentry test CA", ca_key, None)
    leaf = _cert("Consentry test signer", key, ("Consentry test CA", ca_key))
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain, private, None))


def signed_png(path: Path, entries: dict[str, Any], sign_with: c2pa.Signer) -> Path:
    """A PNG whose C2PA manifest holds a cawg.training-mining assertion with `entries`."""
    manifest = {
        "claim_generator_info": [{"name": "consentry-tests", "version": "1"}],
        "title": path.name,
        "format": "image/png",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
                        }
                    ]
                },
            },
            {"label": "cawg.training-mining", "data": {"entries": entries}},
        ],
    }
    builder = c2pa.Builder(manifest)
    out = io.BytesIO()
    builder.sign(sign_with, "image/png", io.BytesIO(png()), out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return path
