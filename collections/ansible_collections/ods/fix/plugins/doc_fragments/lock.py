# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


class ModuleDocFragment:
    # The option of every module whose step changes data under the run's project lock.
    DOCUMENTATION = r"""
options:
  lock_token:
    description:
      - The token of the run's project lock (M(ods.fix.project_lock)). The step is refused unless the lock is
        still the run's, and holds it while it runs, also after the controller has gone.
    type: str
    default: ""
"""
