import sys

from services.audit.verifier.cli import main

sys.exit(main())
