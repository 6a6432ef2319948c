# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


class ModuleDocFragment:
    # What each attribute means; every module says how far it supports it (support, details).
    # ansible.builtin.action_common_attributes has no idempotent, so this fragment holds both.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and return the changed status prediction without modifying the target.
  idempotent:
    description:
      - When run twice in a row outside check mode with the same arguments, the second run reports no change.
"""

    # A module that only reads, and says so.
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    details: Read-only.
  idempotent:
    support: full
author:
  - ods-fix contributors (!UNKNOWN)
"""

    # A module that supports check mode and converges, with nothing more to say about either.
    FULL = r"""
attributes:
  check_mode:
    support: full
  idempotent:
    support: full
author:
  - ods-fix contributors (!UNKNOWN)
"""
