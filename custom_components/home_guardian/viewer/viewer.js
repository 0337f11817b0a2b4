"use strict";
// The token travels in the URL fragment, which browsers never send to a server or a log.
const BASE = "/api/home_guardian/share";
const token = decodeURIComponent(location.hash.slice(1));

function show(id) {
  for (const section of ["pin", "watch", "message"]) {
    document.getElementById(section).hidden = section !== id;
  }
}

function message(text) {
  document.getElementById("message-text").textContent = text;
  show("message");
}

function watch(about) {
  if (about.suspended) {
    message("This share has been reported and is suspended until its owner decides.");
    return;
  }
  const until = new Date(about.until).toLocaleString();
  document.getElementById("notice").textContent =
    `${about.camera}: shared by ${about.shared_by} with ${about.viewer_name} until ${until}.`;
  const hidden = {
    people: "People who move, and faces, are pixelated.",
    faces: "Faces are pixelated.",
    none: "Only private areas are hidden.",
  }[about.privacy] || "";
  document.getElementById("privacy").textContent =
    `${hidden} Your name and the time are marked on the picture.`;
  const picture = document.getElementById("picture");
  picture.onerror = () => message("The picture is not available now. The share may have ended or be outside its hours.");
  picture.src = `${BASE}/stream?t=${Date.now()}`;
  show("watch");
}

async function report(reason) {
  // Once reported, the stream ends on purpose: its end is not an error worth showing.
  const picture = document.getElementById("picture");
  picture.onerror = null;
  const response = await fetch(`${BASE}/report`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ reason }),
  });
  picture.removeAttribute("src");
  message(response.ok
    ? "Thank you. The share is suspended and its owner has been told."
    : "The report could not be sent. Please close this page.");
}

async function start() {
  const session = await fetch(`${BASE}/session`);
  if (session.status === 200) {
    watch(await session.json());
    return;
  }
  if (!token) {
    message("This link is incomplete. Ask for the full link again.");
    return;
  }
  show("pin");
  document.getElementById("pin-input").focus();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("pin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const pin = document.getElementById("pin-input").value.trim();
    const response = await fetch(`${BASE}/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token, pin }),
    });
    const error = document.getElementById("pin-error");
    if (response.ok) {
      // The session cookie now opens the share; the token leaves the address bar.
      history.replaceState(null, "", location.pathname);
      watch(await response.json());
    } else if (response.status === 429) {
      const wait = Math.ceil(Number(response.headers.get("Retry-After") || 60) / 60);
      error.textContent = `Too many attempts. Try again in ${wait} minute(s).`;
    } else {
      error.textContent = "This PIN does not open this link, or the link is no longer valid.";
    }
  });
  document.getElementById("report-wrong").addEventListener("click", () => report("not_for_me"));
  document.getElementById("report-consent").addEventListener("click", () => report("no_consent"));
  start();
});
