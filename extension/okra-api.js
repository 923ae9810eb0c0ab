// The okra JSON API, as the popup and the options page use it.
// Settings live in chrome.storage.local: {apiUrl, token}.

export async function settings() {
  const found = await chrome.storage.local.get(["apiUrl", "token"]);
  return { apiUrl: (found.apiUrl || "http://127.0.0.1:8000").replace(/\/+$/, ""), token: found.token || "" };
}

export async function saveSettings(apiUrl, token) {
  await chrome.storage.local.set({ apiUrl: apiUrl.trim(), token: token.trim() });
}

// Call the API; resolve to the JSON answer, or throw an Error whose message
// names each refused field ("title: expected a non-empty text").
export async function call(method, path, body) {
  const { apiUrl, token } = await settings();
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers.Authorization = `Bearer ${token}`;
  const response = await fetch(apiUrl + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
  });
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}`, fields: [] }));
  if (!response.ok) {
    const fields = (data.fields || []).map((f) => `${f.path}: ${f.message}`);
    throw new Error([data.error, ...fields].join("; "));
  }
  return data;
}
