# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


class ModuleDocFragment:
    # How every module that reaches the stack's MySQL logs in (module_utils/mysql/root_access.py). Its one option,
    # db_root_password_file, is in ods.fix.project: the roles pass it to every module of the group.
    DOCUMENTATION = r"""
options: {}
notes:
  - MySQL and MariaDB are reached inside the database's container, as the manual does (C(docker compose exec)), with
    the client the image has (C(mysql), or C(mariadb) in MariaDB 11 images); no port needs to be published.
  - Root logs in with the first of these that works, passed as C(MYSQL_PWD) in the exec's environment and never
    on a command line - the container's C(MYSQL_ROOT_PASSWORD) (or its C(_FILE)), the stack's settings files,
    O(db_root_password_file), then no password over the socket (MariaDB's default). MySQL 8 images set a root
    password, which is found the same way.
"""
