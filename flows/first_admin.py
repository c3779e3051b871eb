"""End of `make demo`: where the web application is, and a first admin account to log in with.

With no account in the catalog yet, `admin` is created with a random password, printed once;
otherwise only how to make more accounts is printed.
"""

from __future__ import annotations

import sys

from pipeline.catalog import open_catalog
from pipeline.settings import Settings
from pipeline.web.passwords import hash_password, new_password

URL = "http://127.0.0.1:8080/web/"


def main() -> int:
    settings = Settings.load()
    with open_catalog(settings) as catalog:
        users = catalog.users()
        password = None
        if not users:
            password = new_password()
            catalog.add_user("admin", "admin", hash_password(password))
            catalog.add_audit("make-demo", "user-create", detail={"name": "admin", "role": "admin"})
    print()
    print("Web application: `make web` (or `.venv/bin/sohoa web`), then open", URL)
    if password:
        print(f"  first admin: name admin, password {password}   (shown only now)")
    else:
        print(f"  accounts: {', '.join(u['name'] for u in users)}")
    print("  more accounts: .venv/bin/sohoa user create NAME --role viewer|reviewer|admin")
    return 0


if __name__ == "__main__":
    sys.exit(main())
