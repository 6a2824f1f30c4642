"""A throwaway certificate authority and a server certificate for one host name, made by the openssl command."""

import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


@dataclass(frozen=True)
class Certificates:
    """The authority's certificate (what a client trusts) and the server's certificate and key."""

    authority: Path
    server: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        """Return a TLS server context presenting the server certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server, self.server_key)
        return context


def _openssl(*arguments: str, folder: Path) -> None:
    subprocess.run(["openssl", *arguments], cwd=folder, check=True, capture_output=True)  # noqa: S603, S607


def certificates_for(name: str, folder: Path) -> Certificates:
    """Make an authority and a certificate it signs for ``name`` (and that name only), valid for a day."""
    _openssl("req", "-x509", *KEY, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=Test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             folder=folder)  # fmt: skip
    _openssl("req", *KEY, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={name}", folder=folder)
    (folder / "server.ext").write_text(
        f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "1", "-extfile", "server.ext", folder=folder)  # fmt: skip
    return Certificates(authority=folder / "ca.pem", server=folder / "server.pem", server_key=folder / "server.key")
