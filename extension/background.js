// okra quick capture keeps no background state: the popup talks to the API itself.
// The worker exists so the browser (and the tests) can tell the extension's id.
chrome.runtime.onInstalled.addListener(() => {});
