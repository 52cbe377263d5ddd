"""The inspectors' standalone verifier of the audit log (ADR 0031): signed tree heads kept in a file
the inspector owns, Merkle proofs checked locally, and a whole export recomputed. It trusts no answer
of the server: every hash it accepts is checked against heads signed by keys the inspector pinned.

    python -m services.audit.verifier heads --public-key keys/ --bootstrap-servers kafka:9092 \\
        --audit-url http://audit:8104 --token "$INSPECTOR_JWT" --heads-file heads.jsonl
    python -m services.audit.verifier inclusion EVENT_ID --public-key keys/ --audit-url … --token …
    python -m services.audit.verifier export audit-export.jsonl --public-key keys/ [--fetch --audit-url … --token …]

Exit code 0: intact; 1: tampered (or a bad signature); 2: the check could not be made.
"""
