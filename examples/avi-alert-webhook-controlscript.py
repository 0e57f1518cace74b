"""An Avi ControlScript that pushes an alert to avibot's webhook, for controllers that should not wait
for the next poll (polling, the default, needs nothing on the controller; see README "Alerts in your
channel").

Install on the controller: Templates > Scripts > ControlScripts > Create, paste this file, set the two
values below; then an Alert Action (Operations > Alerts > Alert Actions) with this ControlScript, attached
to the alert configurations you want pushed. The controller runs it with the alert's JSON as argv[1].
Only the standard library is used, and it never raises: a failed push is picked up by the next poll.
"""

import json
import sys
import urllib.request

AVIBOT_WEBHOOK = "https://avibot.example.com/api/alerts/webhook"
SECRET = "the value of AVIBOT_ALERT_WEBHOOK_SECRET (16+ characters)"


def main():
    try:
        alert = json.loads(sys.argv[1])
        request = urllib.request.Request(
            AVIBOT_WEBHOOK,
            data=json.dumps(alert).encode(),
            headers={"Content-Type": "application/json", "X-Avibot-Alert-Secret": SECRET},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            print("avibot accepted:", response.read().decode()[:200])
    except Exception as exc:  # the poller reads the alert anyway
        print("avibot push failed:", type(exc).__name__, exc)


if __name__ == "__main__":
    main()
