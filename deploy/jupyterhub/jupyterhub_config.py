"""Example JupyterHub configuration for an ML_INFN hackathon: every person's JupyterLab gets the Hackathon panel.

Start from this file and add your site's authenticator and spawner (INFN Cloud's hub uses its own). The platform's
address comes from the hub's environment (HACKATHON_URL); each person's API token reaches their server in one of two
ways, explained in README.md beside this file. The browser journey (jupyterlab-hackathon/tests/test_journey.py)
loads this file and adds only a test login and a local spawner.
"""

import os

c = get_config()  # noqa: F821 (JupyterHub defines get_config in the configuration's namespace)

# The platform every single-user server talks to, e.g. https://hackathon.ml-infn.example.org
HACKATHON_URL = os.environ.get("HACKATHON_URL", "")
if HACKATHON_URL:
    c.Spawner.environment = {"HACKATHON_URL": HACKATHON_URL}

# Open JupyterLab, where the panel lives; the exercise pages' "Open in JupyterHub" links use
# /hub/user-redirect/hackathon/open?event=...&exercise=..., which the package's server extension serves.
c.Spawner.default_url = "/lab"


def pass_hackathon_token(spawner, auth_state):  # type: ignore[no-untyped-def]
    """Hand the person's platform token from the hub's encrypted auth_state to their server, if the hub has one.

    Choice B of README.md: needs `c.Authenticator.enable_auth_state = True`, JUPYTERHUB_CRYPT_KEY, and an
    authenticator that stores the token as auth_state["hackathon_token"]. Without it the person pastes their token
    once in the panel (choice A), and nothing here is needed.
    """
    token = (auth_state or {}).get("hackathon_token")
    if token:
        spawner.environment["HACKATHON_TOKEN"] = token


c.Spawner.auth_state_hook = pass_hackathon_token
