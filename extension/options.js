import { saveSettings, settings } from "./okra-api.js";

const url = document.getElementById("api-url");
const token = document.getElementById("token");
const status = document.getElementById("status");

settings().then((found) => {
  url.value = found.apiUrl;
  token.value = found.token;
});

document.getElementById("settings").addEventListener("submit", async (event) => {
  event.preventDefault();
  await saveSettings(url.value, token.value);
  status.textContent = "Saved.";
});
