// The sandbox page: renders what the chosen person sees in the sandbox's Slack workspace
// (a snapshot from /api/state) and acts through the sandbox's stand-in Slack client, which
// sends the real bot what Slack would. No framework, no build step, nothing from the internet.
"use strict";

const state = {
  me: null,          // the Slack user id acted as
  channel: null,     // the conversation shown in the middle
  snapshot: null,
  version: -1,
  modalKey: null,    // view id + hash of the modal on screen (kept while unchanged)
  seen: {},          // conversation id -> number of items seen (for unread dots)
};

const $ = (id) => document.getElementById(id);

// -- talking to the sandbox ---------------------------------------------------------------

async function api(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ as: state.me, ...body }),
  });
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  if (!response.ok) {
    toast(data.error || `The sandbox answered ${response.status}.`);
    refresh();
    return null;
  }
  if (data.problem) toast(data.problem);
  return data;
}

let refreshing = null;
let again = false;

async function refresh() {
  if (refreshing) { again = true; return refreshing; }
  refreshing = (async () => {
    do {
      again = false;
      const response = await fetch(`/api/state?as=${encodeURIComponent(state.me)}`);
      if (response.ok) render(await response.json());
    } while (again);
  })();
  try { await refreshing; } finally { refreshing = null; }
}

function listen() {
  const events = new EventSource("/api/events");
  let lost = null;
  events.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (lost) { lost.remove(); lost = null; }
    if (event.kind === "bye") {
      events.close();
      toast("The sandbox has stopped. Start it again with minesync-bot sandbox, then reload.",
        { sticky: true });
      return;
    }
    if (event.version !== state.version) refresh();
  };
  events.onerror = () => {
    // EventSource keeps retrying; say so once, and take it back when it reconnects.
    if (!lost && events.readyState !== EventSource.CLOSED) {
      lost = toast("Lost contact with the sandbox; is it still running?", { sticky: true });
    }
  };
}

// -- rendering the workspace --------------------------------------------------------------

function render(snapshot) {
  state.snapshot = snapshot;
  state.version = snapshot.version;
  document.body.dataset.version = snapshot.version;
  if (!state.channel) state.channel = snapshot.channels[0].id;
  renderPeople(snapshot);
  renderNav(snapshot);
  renderConversation($("messages"), snapshot.conversations[state.channel] || []);
  const audit = snapshot.channels.find((c) => c.id === snapshot.audit_channel);
  $("audit-title").textContent = `# ${audit ? audit.name : snapshot.audit_channel}`;
  renderConversation($("audit-messages"), snapshot.conversations[snapshot.audit_channel] || []);
  $("wiring").textContent = `Real bot: ${snapshot.wiring.bot} · Slack stand-in: ` +
    `${snapshot.wiring.slack_api}`;
  renderModal(snapshot.modal);
}

function renderPeople(snapshot) {
  const select = $("act-as");
  if (!select.options.length) {
    for (const person of snapshot.people) {
      select.append(new Option("", person.id));
    }
    select.addEventListener("change", () => actAs(select.value));
  }
  snapshot.people.forEach((person, i) => {
    select.options[i].textContent = `${person.name} — ${person.role || "not a member"}`;
  });
  select.value = state.me;
  const me = person(state.me);
  $("act-as-detail").textContent =
    `@${me.handle} · ${me.email} · ${me.role ? `${me.role} of ${snapshot.organization}` :
      `not a member of ${snapshot.organization}`}`;
  $("workspace-name").textContent = snapshot.workspace.name;
}

function renderNav(snapshot) {
  const items = [...snapshot.channels.map((c) => ({ id: c.id, label: `# ${c.name}` })),
    { id: snapshot.dm, label: snapshot.bot.name, dm: true }];
  const lists = { channel: $("channel-list"), dm: $("dm-list") };
  lists.channel.replaceChildren();
  lists.dm.replaceChildren();
  for (const item of items) {
    const count = (snapshot.conversations[item.id] || []).length;
    const key = `${state.me}:${item.id}`;
    if (item.id === state.channel) state.seen[key] = count;
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = item.label;
    button.dataset.conversation = item.id;
    if (item.id === state.channel) button.classList.add("active");
    // The audit channel is always on screen in its own pane.
    if (item.id === snapshot.audit_channel) state.seen[key] = count;
    if (count > (state.seen[key] || 0)) button.classList.add("unread");
    button.addEventListener("click", () => { state.channel = item.id; render(state.snapshot); });
    li.append(button);
    (item.dm ? lists.dm : lists.channel).append(li);
  }
  const current = items.find((i) => i.id === state.channel);
  $("channel-title").textContent = current ? current.label : "";
  $("channel-topic").textContent = current && current.dm
    ? "What MineSync Admin tells you directly"
    : "Type /minesync commands here; replies only you can see are marked.";
  $("composer-input").placeholder = current && !current.dm
    ? `Message ${current.label} — try /minesync help`
    : "Message MineSync Admin — try /minesync help";
}

function person(id) {
  return state.snapshot.people.find((p) => p.id === id) ||
    { id, handle: id.toLowerCase(), name: id, email: "", role: null };
}

function actAs(id) {
  state.me = id;
  history.replaceState(null, "", `#as=${person(id).handle}`);
  state.modalKey = null;
  refresh();
}

// Keyed: a message whose content did not change keeps its DOM (and a menu's choice in it).
function renderConversation(container, items) {
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  const old = new Map([...container.children].map((el) => [el.dataset.key, el]));
  const nodes = items.map((item) => {
    const key = `${state.me}|${item.ts}|${item.typed ? "typed" : item.ephemeral ? "eph" : "msg"}`;
    const signature = JSON.stringify(item);
    const existing = old.get(key);
    if (existing && existing.dataset.signature === signature) return existing;
    const node = renderMessage(item, container === $("audit-messages")
      ? state.snapshot.audit_channel : state.channel);
    node.dataset.key = key;
    node.dataset.signature = signature;
    return node;
  });
  if (!nodes.length) {
    container.replaceChildren(emptyNote(container));
    return;
  }
  const same = nodes.length === container.children.length &&
    nodes.every((node, i) => container.children[i] === node);
  if (!same) {
    container.replaceChildren(...nodes);
    if (nearBottom || nodes.some((n) => !old.has(n.dataset.key))) {
      container.scrollTop = container.scrollHeight;
    }
  }
}

function emptyNote(container) {
  if (container === $("audit-messages")) {
    return el("div", "empty", "No audit summaries yet: they appear here as changes are made.");
  }
  const me = person(state.me);
  const note = el("div", "empty");
  note.append(
    el("p", "", `You are ${me.name} in the sandbox workspace ${state.snapshot.workspace.name}. ` +
      "Type /minesync help below, or pick a command from Try on the left."),
    el("p", "", "Switch who you act as at the top left; what each person sees is theirs alone."));
  return note;
}

function renderMessage(item, channel) {
  const snapshot = state.snapshot;
  const wrap = el("div", "message");
  wrap.dataset.ts = item.ts;
  let author;
  if (item.typed) {
    author = person(item.user).name;
    wrap.classList.add("typed");
  } else if (item.user === "USLACKBOT") {
    author = "Slackbot";
  } else {
    author = snapshot.bot.name;
  }
  const avatar = el("div", "avatar", author.slice(0, 1));
  if (!item.typed && item.user !== "USLACKBOT") avatar.classList.add("bot");
  const body = el("div", "message-body");
  const meta = el("div", "meta");
  meta.append(el("span", "author", author));
  if (!item.typed && item.user !== "USLACKBOT") meta.append(el("span", "app-badge", "APP"));
  meta.append(el("span", "time", time(item.ts)));
  if (item.edited) meta.append(el("span", "edited", "(edited)"));
  body.append(meta);
  if (item.ephemeral || item.typed) {
    wrap.classList.add("ephemeral");
    wrap.dataset.testid = "ephemeral";
    const note = el("div", "only-you", item.typed
      ? "Only visible to you: what you typed"
      : "Only visible to you");
    body.prepend(note);
  }
  if (item.typed) {
    body.append(el("div", "typed-text", item.text));
  } else if (Array.isArray(item.blocks) && item.blocks.length) {
    body.append(renderBlocks(item.blocks, { surface: "message", channel, ts: item.ts }));
  } else {
    body.append(mrkdwnEl(item.text || ""));
  }
  wrap.append(avatar, body);
  return wrap;
}

function time(ts) {
  const date = new Date(parseFloat(ts) * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// -- Block Kit --------------------------------------------------------------------------------

function renderBlocks(blocks, ctx) {
  const container = el("div", "blocks");
  for (const block of blocks) container.append(renderBlock(block, ctx));
  return container;
}

function renderBlock(block, ctx) {
  const render = BLOCKS[block.type];
  const node = render ? render(block, ctx) : unsupported("block", block.type);
  node.classList.add("block", `block-${block.type}`);
  if (block.block_id) node.dataset.blockId = block.block_id;
  return node;
}

const BLOCKS = {
  section(block, ctx) {
    const node = el("div", "section");
    const main = el("div", "section-main");
    if (block.text) main.append(textEl(block.text));
    if (Array.isArray(block.fields)) {
      const fields = el("div", "fields");
      for (const field of block.fields) fields.append(textEl(field));
      main.append(fields);
    }
    node.append(main);
    if (block.accessory) {
      const accessory = el("div", "accessory");
      accessory.append(renderElement(block.accessory, block, ctx));
      node.append(accessory);
    }
    return node;
  },
  header(block) {
    return el("div", "header", plain(block.text));
  },
  divider() {
    return el("hr", "divider");
  },
  context(block) {
    const node = el("div", "context");
    for (const element of block.elements || []) {
      if (element.type === "image") node.append(el("span", "image-alt", `[${element.alt_text}]`));
      else node.append(textEl(element));
    }
    return node;
  },
  actions(block, ctx) {
    const node = el("div", "actions");
    for (const element of block.elements || []) node.append(renderElement(element, block, ctx));
    return node;
  },
  input(block, ctx) {
    const node = el("div", "input");
    const label = el("label", "input-label", plain(block.label));
    if (block.optional) label.append(el("span", "optional", " (optional)"));
    const id = `input-${block.block_id}`;
    label.htmlFor = id;
    node.append(label);
    const element = renderElement(block.element, block, { ...ctx, input: true });
    const control = element.matches("input, select, textarea")
      ? element : element.querySelector("input, select, textarea");
    if (control) control.id = id;
    node.append(element);
    if (block.hint) node.append(el("div", "hint", plain(block.hint)));
    const error = el("div", "field-error");
    error.dataset.errorFor = block.block_id;
    error.hidden = true;
    node.append(error);
    return node;
  },
  image(block) {
    // Nothing is fetched from the internet: an image shows as its description.
    return el("div", "image-alt", `[image: ${block.alt_text || ""}]`);
  },
};

function renderElement(element, block, ctx) {
  const render = ELEMENTS[element.type];
  const node = render ? render(element, block, ctx) : unsupported("element", element.type);
  node.dataset.actionId = element.action_id || "";
  node.dataset.elementType = element.type;
  return node;
}

const ELEMENTS = {
  button(element, block, ctx) {
    const button = el("button", "btn", plain(element.text));
    button.type = "button";
    if (element.style) button.classList.add(element.style);
    button.addEventListener("click", async () => {
      if (element.confirm && !(await confirmDialog(element.confirm))) return;
      await act(ctx, block, element, null, button);
    });
    return button;
  },
  static_select(element, block, ctx) {
    return select(element, block, ctx, optionsOf(element));
  },
  conversations_select(element, block, ctx) {
    const channels = state.snapshot.channels.map((c) => ({ value: c.id, text: `# ${c.name}` }));
    return select(element, block, ctx, channels, element.initial_conversation);
  },
  channels_select(element, block, ctx) {
    const channels = state.snapshot.channels.map((c) => ({ value: c.id, text: `# ${c.name}` }));
    return select(element, block, ctx, channels, element.initial_channel);
  },
  users_select(element, block, ctx) {
    const people = state.snapshot.people.map((p) => ({ value: p.id, text: p.name }));
    return select(element, block, ctx, people, element.initial_user);
  },
  overflow(element, block, ctx) {
    const wrap = el("div", "overflow");
    const toggle = el("button", "btn overflow-toggle", "⋯");
    toggle.type = "button";
    toggle.setAttribute("aria-label", "More actions");
    const menu = el("div", "overflow-menu");
    menu.hidden = true;
    for (const option of element.options || []) {
      const item = el("button", "overflow-item", plain(option.text));
      item.type = "button";
      item.addEventListener("click", async () => {
        menu.hidden = true;
        if (element.confirm && !(await confirmDialog(element.confirm))) return;
        await act(ctx, block, element, option.value, toggle);
      });
      menu.append(item);
    }
    toggle.addEventListener("click", () => { menu.hidden = !menu.hidden; });
    wrap.append(toggle, menu);
    return wrap;
  },
  plain_text_input(element) {
    const input = element.multiline ? el("textarea", "text-input") : el("input", "text-input");
    if (!element.multiline) input.type = "text";
    if (element.multiline) input.rows = 4;
    if (element.placeholder) input.placeholder = plain(element.placeholder);
    if (element.initial_value) input.value = element.initial_value;
    if (element.max_length) input.maxLength = element.max_length;
    return input;
  },
  email_text_input(element) {
    const input = el("input", "text-input");
    input.type = "email";
    if (element.placeholder) input.placeholder = plain(element.placeholder);
    if (element.initial_value) input.value = element.initial_value;
    return input;
  },
};

function optionsOf(element) {
  const flat = [...(element.options || [])];
  for (const group of element.option_groups || []) flat.push(...(group.options || []));
  return flat.map((o) => ({
    value: o.value,
    text: plain(o.text),
    description: o.description ? plain(o.description) : "",
  }));
}

function select(element, block, ctx, options, initial) {
  const node = el("select", "select");
  const placeholder = new Option(element.placeholder ? plain(element.placeholder) : "Select", "");
  placeholder.disabled = true;
  node.append(placeholder);
  for (const option of options) {
    const item = new Option(option.text, option.value);
    if (option.description) item.title = option.description;
    node.append(item);
  }
  const chosen = initial || (element.initial_option && element.initial_option.value);
  node.value = chosen || "";
  node.dataset.current = node.value;
  if (!ctx.input) {
    node.addEventListener("change", async () => {
      if (element.confirm && !(await confirmDialog(element.confirm))) {
        node.value = node.dataset.current;
        return;
      }
      node.dataset.current = node.value;
      await act(ctx, block, element, node.value, node);
    });
  }
  return node;
}

function unsupported(kind, type) {
  const node = el("div", "unsupported", `Unsupported ${kind}: ${type}`);
  node.dataset.testid = "unsupported";
  return node;
}

// -- acting -------------------------------------------------------------------------------

async function act(ctx, block, element, selected, control) {
  const body = { block_id: block.block_id, action_id: element.action_id, selected };
  if (ctx.surface === "modal") {
    body.view_id = ctx.viewId;
    body.values = modalValues();
  } else {
    body.channel = ctx.channel;
    body.ts = ctx.ts;
  }
  control.classList.add("busy");
  try {
    await api("/api/click", body);
  } finally {
    control.classList.remove("busy");
  }
}

async function sendCommand(text) {
  const input = $("composer-input");
  input.value = "";
  await api("/api/command", { channel: state.channel, text });
}

// -- modals -------------------------------------------------------------------------------

function renderModal(modal) {
  const overlay = $("modal-overlay");
  if (!modal) {
    overlay.hidden = true;
    state.modalKey = null;
    $("modal").replaceChildren();
    return;
  }
  const view = modal.view;
  const key = `${state.me}|${view.id}|${view.hash}`;
  if (key !== state.modalKey) {
    state.modalKey = key;
    $("modal").replaceChildren(...buildModal(view, modal.depth));
    overlay.hidden = false;
    const first = $("modal").querySelector("input, textarea, select");
    if (first) first.focus();
  }
  showErrors(modal.errors || {});
}

function buildModal(view, depth) {
  const header = el("header", "modal-header");
  if (depth > 1) {
    const back = el("button", "icon-btn", "←");
    back.type = "button";
    back.setAttribute("aria-label", "Back");
    back.addEventListener("click", () => api("/api/close", { view_id: view.id, back: true }));
    header.append(back);
  }
  header.append(el("h2", "modal-title", plain(view.title)));
  const x = el("button", "icon-btn", "✕");
  x.type = "button";
  x.setAttribute("aria-label", "Close");
  x.addEventListener("click", () => closeModal(view));
  header.append(x);

  const form = el("form", "modal-body");
  form.noValidate = true;
  const general = el("div", "modal-error");
  general.hidden = true;
  form.append(general, renderBlocks(view.blocks || [], { surface: "modal", viewId: view.id }));
  form.addEventListener("submit", (event) => { event.preventDefault(); submitModal(view); });

  const footer = el("footer", "modal-footer");
  const close = el("button", "btn", view.close ? plain(view.close) : "Cancel");
  close.type = "button";
  close.addEventListener("click", () => closeModal(view));
  footer.append(close);
  if (view.submit) {
    const submit = el("button", "btn primary", plain(view.submit));
    submit.type = "button";
    submit.dataset.role = "submit";
    submit.addEventListener("click", () => submitModal(view));
    footer.append(submit);
  }
  return [header, form, footer];
}

function modalValues() {
  const values = {};
  for (const block of $("modal").querySelectorAll(".block-input")) {
    const control = block.querySelector("input, select, textarea");
    if (!control) continue;
    values[block.dataset.blockId] = control.value === "" ? null : control.value;
  }
  return values;
}

function showErrors(errors) {
  const modal = $("modal");
  const known = new Set();
  for (const slot of modal.querySelectorAll(".field-error")) {
    const message = errors[slot.dataset.errorFor];
    slot.textContent = message || "";
    slot.hidden = !message;
    slot.closest(".block-input").classList.toggle("has-error", Boolean(message));
    known.add(slot.dataset.errorFor);
  }
  const general = modal.querySelector(".modal-error");
  if (general) {
    const other = Object.entries(errors).filter(([id]) => !known.has(id)).map(([, m]) => m);
    general.textContent = other.join(" ");
    general.hidden = !other.length;
  }
}

async function submitModal(view) {
  const button = $("modal").querySelector("[data-role=submit]");
  if (button) button.disabled = true;
  try {
    await api("/api/submit", { view_id: view.id, values: modalValues() });
  } finally {
    if (button) button.disabled = false;
  }
}

async function closeModal(view) {
  await api("/api/close", { view_id: view.id });
}

// A confirm object becomes a real dialog; the action is sent only when confirmed.
function confirmDialog(confirm) {
  return new Promise((resolve) => {
    const overlay = $("confirm-overlay");
    const box = $("confirm");
    const yes = el("button", `btn ${confirm.style === "danger" ? "danger" : "primary"}`,
      plain(confirm.confirm) || "Yes");
    const no = el("button", "btn", plain(confirm.deny) || "Cancel");
    yes.type = no.type = "button";
    yes.dataset.role = "confirm";
    no.dataset.role = "deny";
    const done = (answer) => {
      overlay.hidden = true;
      box.replaceChildren();
      document.removeEventListener("keydown", onKey);
      resolve(answer);
    };
    const onKey = (event) => { if (event.key === "Escape") done(false); };
    yes.addEventListener("click", () => done(true));
    no.addEventListener("click", () => done(false));
    document.addEventListener("keydown", onKey);
    const footer = el("footer", "modal-footer");
    footer.append(no, yes);
    box.replaceChildren(el("h2", "modal-title", plain(confirm.title)),
      textEl(confirm.text), footer);
    overlay.hidden = false;
    yes.focus();
  });
}

// -- text ---------------------------------------------------------------------------------

function plain(text) {
  if (!text) return "";
  return typeof text === "string" ? text : emoji(text.text || "");
}

function textEl(text) {
  if (!text) return el("div", "text");
  if (text.type === "mrkdwn") return mrkdwnEl(text.text || "");
  return el("div", "text", plain(text));
}

function mrkdwnEl(source) {
  const node = el("div", "text mrkdwn");
  node.innerHTML = mrkdwn(source);
  return node;
}

const EMOJI = {
  warning: "⚠️", white_check_mark: "✅", x: "❌", lock: "🔒", wave: "👋",
  hourglass: "⌛", hourglass_flowing_sand: "⏳", no_entry: "⛔", bust_in_silhouette: "👤",
  busts_in_silhouette: "👥", memo: "📝", key: "🔑", information_source: "ℹ️",
  heavy_check_mark: "✔️", pick: "⛏️", construction_worker: "👷",
};

function emoji(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] || all);
}

function escapeHtml(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function unescapeSlack(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

// Slack's mrkdwn: <@U…|name>, <#C…|name>, <mailto:…|…>, <url|label>, *bold*, _italic_,
// ~strike~, `code`, ```preformatted```, > quotes. Everything else is text, escaped.
function mrkdwn(source) {
  const saved = [];
  const keep = (html) => `\u0000${saved.push(html) - 1}\u0000`;
  let text = source.replace(/<([^<>]+)>/g, (all, inner) => keep(special(inner)));
  text = escapeHtml(unescapeSlack(text));
  text = text.replace(/```([\s\S]*?)```/g, (all, code) => keep(`<pre>${code}</pre>`));
  text = text.replace(/`([^`\n]+)`/g, (all, code) => keep(`<code>${code}</code>`));
  text = text.replace(/(^|[^\w*])\*(?!\s)([^*\n]+?)\*(?!\w)/g, "$1<b>$2</b>");
  text = text.replace(/(^|[^\w_])_(?!\s)([^_\n]+?)_(?!\w)/g, "$1<i>$2</i>");
  text = text.replace(/(^|[^\w~])~(?!\s)([^~\n]+?)~(?!\w)/g, "$1<s>$2</s>");
  text = text.split("\n").map((line) => line.startsWith("&gt; ")
    ? `<span class="quote">${line.slice(5)}</span>` : line).join("<br>");
  text = emoji(text);
  return text.replace(/\u0000(\d+)\u0000/g, (all, i) => saved[Number(i)]);
}

function special(inner) {
  const [target, label] = splitOnce(inner, "|");
  const shown = (fallback) => escapeHtml(unescapeSlack(label || fallback));
  if (target.startsWith("@")) {
    const id = target.slice(1);
    const who = state.snapshot && state.snapshot.people.find((p) => p.id === id);
    return `<span class="mention">@${shown(who ? who.handle : id)}</span>`;
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    const channel = state.snapshot && state.snapshot.channels.find((c) => c.id === id);
    return `<span class="mention">#${shown(channel ? channel.name : id)}</span>`;
  }
  if (target.startsWith("!")) return `<span class="mention">@${shown(target.slice(1))}</span>`;
  if (/^(https?:|mailto:)/.test(target)) {
    const href = escapeHtml(unescapeSlack(target));
    const text = shown(target.replace(/^mailto:/, ""));
    return `<a href="${href}" target="_blank" rel="noopener noreferrer">${text}</a>`;
  }
  return escapeHtml(`<${unescapeSlack(inner)}>`);
}

function splitOnce(text, separator) {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
}

// -- small things -------------------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function toast(message, { sticky = false } = {}) {
  const node = el("div", "toast", message);
  node.dataset.testid = "toast";
  $("toasts").append(node);
  if (!sticky) setTimeout(() => node.remove(), 6000);
  return node;
}

const TIPS = [
  "/minesync help",
  "/minesync members",
  "/minesync invite",
  "/minesync invite nia@demo-mine.example.com viewer",
  "/minesync create",
  "/minesync role @pat admin",
  "/minesync remove @tim",
  "/minesync config removal-approvals 2",
  "/minesync audit",
  "/minesync orgs",
];

function renderTips() {
  for (const tip of TIPS) {
    const button = el("button", "tip", tip);
    button.type = "button";
    button.addEventListener("click", () => {
      const input = $("composer-input");
      input.value = tip;
      input.focus();
    });
    $("tips").append(button);
  }
}

async function start() {
  const response = await fetch("/api/state");
  const first = await response.json();
  const wanted = (location.hash.match(/as=([\w-]+)/) || [])[1];
  const chosen = first.people.find((p) => p.handle === wanted || p.id === wanted);
  state.me = chosen ? chosen.id : first.people[0].id;
  state.snapshot = first;
  renderTips();
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("composer-input").value.trim();
    if (text) sendCommand(text);
  });
  listen();
  await refresh();
}

start();
