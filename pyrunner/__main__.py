from pyrunner.cli import main

raise SystemExit(main())
