import { call, settings } from "./okra-api.js";

const status = document.getElementById("status");
const actionSelect = document.getElementById("action");
const titleInput = document.getElementById("title");
const taskList = document.getElementById("tasks");

function say(text, isError = false) {
  status.textContent = text; // textContent: whatever the server sends is shown, never run
  status.className = isError ? "error" : "";
}

async function loadActions() {
  const actions = await call("GET", "/api/actions");
  actionSelect.replaceChildren();
  for (const action of actions.filter((a) => a.status === "placed" || a.status === "proposed")) {
    const option = document.createElement("option");
    option.value = action.id;
    option.textContent = action.title;
    actionSelect.append(option);
  }
}

async function loadTasks() {
  const tasks = await call("GET", "/api/tasks?done=false");
  taskList.replaceChildren();
  for (const task of tasks) {
    const item = document.createElement("li");
    item.className = "task";
    item.dataset.id = task.id;
    const box = document.createElement("input");
    box.type = "checkbox";
    box.id = `done-${task.id}`;
    box.addEventListener("change", () => complete(task, item));
    const label = document.createElement("label");
    label.htmlFor = box.id;
    label.textContent = task.title;
    const action = document.createElement("span");
    action.className = "muted";
    action.textContent = task.action_title;
    item.append(box, label, action);
    taskList.append(item);
  }
}

async function complete(task, item) {
  try {
    await call("POST", `/api/tasks/${task.id}/completion`);
    item.remove();
    say(`Done: ${task.title}`);
  } catch (error) {
    say(error.message, true);
  }
}

document.getElementById("add-task").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const task = await call("POST", `/api/actions/${actionSelect.value}/tasks`, { title: titleInput.value });
    titleInput.value = "";
    say(`Added: ${task.title}`);
    await loadTasks();
  } catch (error) {
    say(error.message, true);
  }
});

(async () => {
  const { token } = await settings();
  if (!token) {
    say("Set the API address and a token in Settings (okra token create NAME).", true);
  }
  try {
    await Promise.all([loadActions(), loadTasks()]);
    if (token) say("Ready.");
  } catch (error) {
    say(`Cannot reach okra: ${error.message}`, true);
  }
})();
