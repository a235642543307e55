"""``python -m airflow_copyleaks.testing.emulator --port 8765``"""

from .server import main

raise SystemExit(main())
