"""A notify command for the tests: appends its arguments and GATEWAYD_* environment as a JSON line."""

import json
import os
import sys

with open(os.environ["NOTIFY_RECORD"], "a", encoding="utf-8") as out:
    env = {k: v for k, v in os.environ.items() if k.startswith("GATEWAYD_")}
    out.write(json.dumps({"argv": sys.argv[1:], "env": env}, ensure_ascii=False) + "\n")
