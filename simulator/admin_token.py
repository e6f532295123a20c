"""The simulator's admin token: given by a setting, or one generated per stack and kept in a file.

`stack_admin_token(stack_dir, given)` is what `polywindow sim` (and `polywindow up`) call: `given`
wins; otherwise `<stack_dir>/sim-admin.token` is reused if present, or created with mode 0600 holding
a fresh random token. A user (or a test) reads the file to call `/_admin`. Never print the token.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

TOKEN_FILE = "sim-admin.token"
OWNER_ONLY = 0o600


def token_path(stack_dir: Path, file_name: str = TOKEN_FILE) -> Path:
    return stack_dir / file_name


def read_admin_token(stack_dir: Path, file_name: str = TOKEN_FILE) -> SecretStr | None:
    """The stack's token file's token, or None when there is no (non-empty) file."""
    try:
        text = token_path(stack_dir, file_name).read_text().strip()
    except FileNotFoundError:
        return None
    return SecretStr(text) if text else None


def stack_admin_token(
    stack_dir: Path, given: SecretStr | None = None, file_name: str = TOKEN_FILE
) -> SecretStr:
    """`given` if it is set, else the stack's token, generating the 0600 file on first use
    (`file_name` in the stack directory: `polywindow up` keeps the API's token the same way).

    The file appears whole or not at all (written aside, then linked in place), so processes starting
    together agree on one token; an empty file left behind is replaced.
    """
    if given is not None and given.get_secret_value().strip():
        return given
    stack_dir.mkdir(parents=True, exist_ok=True)
    path = token_path(stack_dir, file_name)
    found = read_admin_token(stack_dir, file_name)
    if found is not None:
        os.chmod(path, OWNER_ONLY)
        return found
    token = secrets.token_urlsafe(32)
    aside = stack_dir / f".{file_name}.{secrets.token_hex(4)}"
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    try:
        with os.fdopen(fd, "w") as out:
            os.fchmod(out.fileno(), OWNER_ONLY)
            out.write(token + "\n")
        try:
            os.link(aside, path)
        except FileExistsError:
            found = read_admin_token(stack_dir, file_name)
            if found is not None:
                return found
            os.replace(aside, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            aside.unlink()
    return SecretStr(token)
