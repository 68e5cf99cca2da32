"""`make ui`: start the sandbox and the webhook receiver, then the Dagster UI wired to both through the environment;
stop all three on exit.

The stand-ins deliver their signed webhooks to the receiver, which verifies them with the keys the sandbox prints
and stores them in the inbox beside the rate budgets (`$ETL_STATE_DIR/webhook_inbox.sqlite3`); the daemon that
`dagster dev` runs ticks `webhook_inbox_sensor` against the same file, so a change made in the sandbox shows up as
a run launched by that sensor within about 30 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from etl_project.devtools.process import SandboxProcess
from etl_project.devtools.wiring import point_webhooks, receiver_env, sandbox_env
from etl_project.webhooks.config import inbox_path
from etl_project.webhooks.process import ReceiverProcess


def main() -> int:
    with SandboxProcess() as sandbox:
        print("\n".join(sandbox.banner), flush=True)
        env = {**os.environ, **sandbox_env(sandbox.base_urls)}
        inbox = inbox_path(env)
        inbox.parent.mkdir(parents=True, exist_ok=True)
        admin = {name: sandbox.admin_url(name) for name in sandbox.base_urls}
        hooks_env = receiver_env(admin, str(inbox))
        with ReceiverProcess(hooks_env) as receiver:
            point_webhooks(admin, receiver.base_url)
            print(f"webhook receiver at {receiver.base_url} (inbox {inbox}); the stand-ins deliver to it", flush=True)
            env.update(hooks_env)
            dagster = Path(sys.executable).with_name("dagster")
            try:
                return subprocess.call([str(dagster), "dev", "-w", "workspace.yaml"], env=env)
            except KeyboardInterrupt:
                return 0


if __name__ == "__main__":
    sys.exit(main())
