"use strict";
// The token travels in the URL fragment, which browsers never send to a server or a log.
const BASE = "/api/home_guardian/share";
const token = decodeURIComponent(location.hash.slice(1));
// The page asks for its share's state this often: any end or pause shows within two seconds.
const POLL_MS = 1000;
const UNKNOWN = "This link has ended or does not exist. Ask whoever shared it for a new one.";
// Why there is no picture; the three ends are final, the other states may pass.
const ENDED = {
  revoked: "The owner has ended this share. It will not come back.",
  expired: "This share has expired.",
  suspended: "This share has been reported and is suspended until its owner decides.",
};
const PAUSED = {
  outside_hours: (about) => about.opens_at
    ? `This share shows pictures only at set hours. It opens again ${new Date(about.opens_at).toLocaleString()}.`
    : "This share shows pictures only at set hours, and none is coming up.",
  sharing_off: () => "The owner has paused sharing of this camera. The picture comes back if they allow it again.",
  camera_offline: () => "The camera is not available right now. The picture comes back by itself when it is.",
};
let polling = null;
let streaming = false;
let streamingSince = 0;
// A stream Home Assistant no longer has for this page (cut off after the viewer stopped
// reading, or by a network change) is opened again, once it has had this long to arrive.
const REOPEN_AFTER_MS = 5000;

function show(id) {
  for (const section of ["pin", "watch", "message"]) {
    document.getElementById(section).hidden = section !== id;
  }
}

function stopPicture() {
  // Removing the source ends the stream: no old picture stays on screen.
  const picture = document.getElementById("picture");
  picture.removeAttribute("src");
  streaming = false;
}

function message(text, { final = true } = {}) {
  stopPicture();
  if (final && polling !== null) {
    clearInterval(polling);
    polling = null;
  }
  document.getElementById("message-text").textContent = text;
  show("message");
}

function describe(about) {
  const until = new Date(about.until).toLocaleString();
  document.getElementById("notice").textContent =
    `${about.camera}: shared by ${about.shared_by} with ${about.viewer_name} until ${until}.`;
  const hidden = {
    people: "People are pixelated, moving or still, and so are faces.",
    faces: "Faces and heads are pixelated.",
    none: "Only private areas are hidden.",
  }[about.privacy] || "";
  document.getElementById("privacy").textContent =
    `${hidden} Your name and the time are marked on the picture.`;
}

// Show what the share's state says: the live picture, a pause, or an end.
function apply(about) {
  if (about.state in ENDED) {
    message(ENDED[about.state]);
    return;
  }
  if (about.state in PAUSED) {
    message(PAUSED[about.state](about), { final: false });
    return;
  }
  describe(about);
  show("watch");
  const cut = streaming && about.streaming === false && Date.now() - streamingSince > REOPEN_AFTER_MS;
  if (!streaming || cut) {
    streaming = true;
    streamingSince = Date.now();
    document.getElementById("picture").src = `${BASE}/stream?t=${Date.now()}`;
  }
}

async function poll() {
  let response;
  try {
    response = await fetch(`${BASE}/session`, { cache: "no-store" });
  } catch {
    return; // A network blip: the next poll tells.
  }
  if (response.status === 200) {
    apply(await response.json());
  } else if (response.status === 204) {
    // The session is unknown: Home Assistant restarted (sessions live in memory only) or a
    // newer one of the same link took its place. An end would have been told with a 200.
    askPin("Your session has ended. Enter your PIN again to keep watching.");
  }
  // Anything else (404 while Home Assistant starts, 502 from a proxy meanwhile) is a blip too.
}

// Ask for the PIN: the token is still in memory even after it left the address bar.
function askPin(why = "") {
  if (!token) {
    message(UNKNOWN);
    return;
  }
  if (polling !== null) {
    clearInterval(polling);
    polling = null;
  }
  stopPicture();
  document.getElementById("pin-input").value = "";
  document.getElementById("pin-error").textContent = why;
  show("pin");
  document.getElementById("pin-input").focus();
}

function follow(about) {
  apply(about);
  if (polling === null && !(about.state in ENDED)) {
    polling = setInterval(poll, POLL_MS);
  }
}

async function report(reason) {
  if (polling !== null) {
    clearInterval(polling);
    polling = null;
  }
  stopPicture();
  const response = await fetch(`${BASE}/report`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ reason }),
  });
  message(response.ok
    ? "Thank you. The share is suspended and its owner has been told."
    : UNKNOWN);
}

async function start() {
  const session = await fetch(`${BASE}/session`, { cache: "no-store" });
  if (session.status === 200) {
    follow(await session.json());
    return;
  }
  askPin();
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
      follow(await response.json());
    } else if (response.status === 410) {
      // The right PIN of a share that has expired: only its viewer is told.
      const about = await response.json();
      message(ENDED[about.state] || UNKNOWN);
    } else {
      const wrong = response.status === 429
        ? "Too many attempts."
        : "This PIN does not open this link, or the link is no longer valid.";
      const retry = response.headers.get("Retry-After");
      const minutes = Math.max(1, Math.ceil(Number(retry) / 60));
      error.textContent = retry
        ? `${wrong} Try again in ${minutes} ${minutes === 1 ? "minute" : "minutes"}.`
        : wrong;
    }
  });
  document.getElementById("report-wrong").addEventListener("click", () => report("not_for_me"));
  document.getElementById("report-consent").addEventListener("click", () => report("no_consent"));
  start();
});
