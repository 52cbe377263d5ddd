"""Prints a development JWT: python -m services.kit.token --role staff --township qingshui"""

from __future__ import annotations

import argparse
import os
import sys

from services.kit.auth import DEV_SECRET, ROLES, issue_token


def main() -> int:
    parser = argparse.ArgumentParser(description="Issue a development token (HS256, 12 h).")
    parser.add_argument("--role", required=True, choices=ROLES)
    parser.add_argument("--township", default="", help="township_id; required for all roles but admin and inspector")
    parser.add_argument("--sub", default="dev-user", help="user id recorded as the actor of events")
    args = parser.parse_args()
    try:
        token = issue_token(secret=os.environ.get("BIANMIN_JWT_SECRET", DEV_SECRET), role=args.role,
                            township_id=args.township or None, sub=args.sub)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
