// ONE-DATA-STUDIO sandbox front end: shows the API health through the /api proxy.
const statusEl = document.getElementById('api-status');

async function refresh() {
  try {
    const response = await fetch('/api/v1/health');
    const body = await response.json();
    statusEl.textContent = `${body.status} (HTTP ${response.status})`;
  } catch (error) {
    statusEl.textContent = `unreachable: ${error}`;
  }
}

refresh();
setInterval(refresh, 10000);
