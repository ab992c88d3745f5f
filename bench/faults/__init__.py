"""The fault suite (``make faults``): two instances of each service on PostgreSQL under a
steady stream of orders, while one fault after another happens; then the invariants.
docs/RELIABILITY.md says what it does and keeps its figures."""

import warnings

# eventlet's notice that it is in maintenance mode, printed when nameko is imported
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
