# Jupyter Server settings for the course on Binder and on hubs; binder/postBuild copies this file to
# ~/.jupyter/jupyter_server_config.py (docs/jupyterhub.md says where it goes in a hub image).
# tests/test_launch.py checks that every setting here exists in the installed Jupyter Server / JupyterLab.
c = get_config()  # noqa: F821 (defined by Jupyter when it loads this file)

# Open the start notebook when a launch URL names no file (the Binder badges name one with ?labpath=).
# JupyterLab replaces ServerApp.default_url with its own (LabApp.default_url, "/lab"): set both.
c.ServerApp.default_url = "/lab/tree/notebooks/00_start_here.ipynb"
c.LabApp.default_url = "/lab/tree/notebooks/00_start_here.ipynb"

# Memory: mybinder.org stops a session at 2 GB, and one course kernel takes 0.3-0.9 GB. A notebook's kernel
# shuts down when its tab closes (JupyterLab setting, binder/overrides.json); on top of that, a kernel that has
# run nothing for 20 minutes is shut down, even if its notebook is still open (cull_connected). Reopening a
# notebook starts a fresh kernel; in a notebook whose kernel was culled, Kernel > Restart Kernel and Run All
# Cells gets it back (every notebook runs top to bottom in seconds).
c.MappingKernelManager.cull_idle_timeout = 20 * 60  # seconds without kernel activity
c.MappingKernelManager.cull_interval = 60  # how often to look, in seconds
c.MappingKernelManager.cull_connected = True  # also kernels whose notebook is open in a tab
c.MappingKernelManager.cull_busy = False  # never a kernel that is running a cell
