"""Running a step: plan, values, risk, confirmation, the executor and its detached supervisor,
runs on disk, locks, the audit trail, masking and the deployment history."""
