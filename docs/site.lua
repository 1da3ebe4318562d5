-- docs/site.lua — pandoc filter for docs/build-site.sh.
--
-- * Links between pages: "page.md#anchor" becomes "page.html#anchor", so that the site's
--   links work; web addresses and in-page anchors are left alone.
-- * Links to other files of the repository (a skeleton's server.c, a script) are listed in the
--   file named by $SITE_ASSETS, relative to the page's folder, for the script to copy.
-- * Mermaid blocks: no Debian package renders Mermaid offline, so this filter draws the
--   subset the docs use — sequence diagrams (participants, solid/dashed/lost messages, notes) —
--   as inline SVG, with the source below it. Any other diagram, or a line it does not know,
--   is shown as its source text in a framed block.

local assets = os.getenv("SITE_ASSETS")
local page = PANDOC_STATE.input_files[1] or ""
local page_dir = page:match("^(.*)/[^/]*$") or "."

local function is_external(target)
  return target:match("^%a[%w+.-]*:") ~= nil or target:sub(1, 2) == "//"
end

function Link(link)
  local target = link.target
  if target == "" or is_external(target) or target:sub(1, 1) == "#" then
    return nil
  end
  local path, anchor = target:match("^([^#]*)(.*)$")
  if path:match("%.md$") then
    link.target = path:gsub("%.md$", ".html") .. anchor
    return link
  end
  if assets and path ~= "" and not path:match("/$") then
    local list = io.open(assets, "a")
    if list then
      list:write(page_dir .. "/" .. path, "\n")
      list:close()
    end
  end
  return nil
end

-- --- sequence diagrams ------------------------------------------------------------------

local FONT_PX = 13          -- the diagram's text size
local NARROW_PX = 7.2       -- width of a Latin character at that size (an estimate)
local WIDE_PX = 13.5        -- width of a Hangul or CJK character
local MARGIN = 12
local BOX_H = 30            -- a participant's box
local MIN_GAP = 150         -- between two lifelines
local ROW_H = 36            -- a message: its label above the arrow
local SELF_H = 46           -- a message from a participant to itself
local NOTE_LINE_H = 18
local PAD = 10

local function escape(text)
  return (text:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

local function text_width(text)
  local width = 0
  for _, code in utf8.codes(text) do
    width = width + ((code >= 0x1100) and WIDE_PX or NARROW_PX)
  end
  return width
end

-- Mermaid writes <br> (or <br/>) for a line break inside a label.
local function label_lines(text)
  local lines = {}
  for line in (text .. "<br>"):gmatch("(.-)<br%s*/?>") do
    table.insert(lines, (line:gsub("^%s+", ""):gsub("%s+$", "")))
  end
  return lines
end

local ARROWS = {            -- longest first: the pattern match tries them in this order
  { "-->>", "dashed", "filled" }, { "->>", "solid", "filled" },
  { "--x", "dashed", "cross" }, { "-x", "solid", "cross" },
  { "--)", "dashed", "open" }, { "-)", "solid", "open" },
  { "-->", "dashed", "none" }, { "->", "solid", "none" },
}

-- Parses the sequenceDiagram subset; returns nil for anything else.
local function parse_sequence(source)
  local lines = {}
  for line in source:gmatch("[^\n]+") do
    line = line:gsub("^%s+", ""):gsub("%s+$", "")
    if line ~= "" and not line:match("^%%%%") then
      table.insert(lines, line)
    end
  end
  if lines[1] ~= "sequenceDiagram" then
    return nil
  end
  local diagram = { order = {}, label = {}, events = {} }
  local function participant(name, label)
    if not diagram.label[name] then
      table.insert(diagram.order, name)
      diagram.label[name] = label or name
    elseif label then
      diagram.label[name] = label
    end
  end
  for i = 2, #lines do
    local line = lines[i]
    local kind, name, label = line:match("^(%a+)%s+([%w_]+)%s+as%s+(.+)$")
    if not kind then
      kind, name = line:match("^(%a+)%s+([%w_]+)$")
    end
    if kind == "participant" or kind == "actor" then
      participant(name, label)
    else
      local where, who, text = line:match("^[Nn]ote%s+(%a+ ?%a*)%s+([%w_, ]-)%s*:%s*(.*)$")
      if where then
        local names = {}
        for n in who:gmatch("[%w_]+") do
          participant(n)
          table.insert(names, n)
        end
        table.insert(diagram.events, { type = "note", where = where, names = names, text = text })
      else
        local matched = false
        for _, arrow in ipairs(ARROWS) do
          local pattern = "^([%w_]+)%s*" .. arrow[1]:gsub("%p", "%%%0") .. "%s*([%w_]+)%s*:%s*(.*)$"
          local from, to, message = line:match(pattern)
          if from then
            participant(from)
            participant(to)
            table.insert(diagram.events, { type = "message", from = from, to = to,
                                           text = message, line = arrow[2], head = arrow[3] })
            matched = true
            break
          end
        end
        if not matched then
          return nil       -- loop, alt, activate...: not drawn; show the source instead
        end
      end
    end
  end
  if #diagram.order == 0 then
    return nil
  end
  return diagram
end

local diagram_count = 0

local function render_sequence(diagram)
  diagram_count = diagram_count + 1
  local id = "seq" .. diagram_count
  local index, width = {}, {}
  for i, name in ipairs(diagram.order) do
    index[name] = i
    width[i] = math.max(90, text_width(diagram.label[name]) + 2 * PAD)
  end
  local n = #diagram.order
  -- Gaps between neighbouring lifelines: wide enough for the boxes, then for every label
  -- that spans them (its width shared among the gaps it crosses).
  local gap = {}
  for i = 1, n - 1 do
    gap[i] = math.max(MIN_GAP, (width[i] + width[i + 1]) / 2 + 20)
  end
  local function widen(first, last, needed)
    local have = 0
    for i = first, last - 1 do have = have + gap[i] end
    if have < needed then
      local extra = (needed - have) / (last - first)
      for i = first, last - 1 do gap[i] = gap[i] + extra end
    end
  end
  for _, event in ipairs(diagram.events) do
    local longest = 0
    for _, line in ipairs(label_lines(event.text)) do
      longest = math.max(longest, text_width(line))
    end
    if event.type == "message" and event.from ~= event.to then
      local a, b = index[event.from], index[event.to]
      widen(math.min(a, b), math.max(a, b), longest + 30)
    elseif event.type == "note" and #event.names == 2 then
      local a, b = index[event.names[1]], index[event.names[2]]
      if a ~= b then widen(math.min(a, b), math.max(a, b), longest + 2 * PAD - 40) end
    end
    event.text_width = longest
  end
  local x = {}
  x[1] = MARGIN + width[1] / 2
  for i = 2, n do x[i] = x[i - 1] + gap[i - 1] end

  local parts, y = {}, MARGIN + BOX_H + 14
  local left_edge, right_edge = 0, x[n] + width[n] / 2 + MARGIN
  local function add(s) table.insert(parts, s) end
  local function text_at(tx, ty, lines, anchor, class)
    for k, line in ipairs(lines) do
      add(string.format('<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>',
                        tx, ty + (k - 1) * NOTE_LINE_H, anchor, class, escape(line)))
    end
  end

  for _, event in ipairs(diagram.events) do
    local lines = label_lines(event.text)
    if event.type == "message" then
      local a, b = x[index[event.from]], x[index[event.to]]
      local dash = event.line == "dashed" and ' stroke-dasharray="6 4"' or ""
      local marker = ({ filled = "url(#" .. id .. "-filled)", open = "url(#" .. id .. "-open)",
                        cross = "url(#" .. id .. "-cross)" })[event.head]
      local marker_attr = marker and (' marker-end="' .. marker .. '"') or ""
      local extra = (#lines - 1) * NOTE_LINE_H
      if a == b then
        text_at(a + 8, y + 4, lines, "start", "msg")
        local top = y + 10 + extra
        add(string.format('<path d="M %.1f %.1f h 36 v 18 h -34" fill="none" class="arrow"%s%s/>',
                          a, top, dash, marker_attr))
        right_edge = math.max(right_edge, a + 16 + event.text_width + MARGIN)
        y = y + SELF_H + extra
      else
        text_at((a + b) / 2, y + 4, lines, "middle", "msg")
        local ay = y + 12 + extra
        local tip = b > a and b - 2 or b + 2
        add(string.format('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="arrow"%s%s/>',
                          a, ay, tip, ay, dash, marker_attr))
        y = y + ROW_H + extra
      end
    else
      local first, last = x[index[event.names[1]]], x[index[event.names[#event.names]]]
      local lo, hi = math.min(first, last), math.max(first, last)
      local box_w = math.max(event.text_width + 2 * PAD, (hi - lo) + 40)
      local left
      if event.where == "left of" then
        left = lo - 20 - box_w
      elseif event.where == "right of" then
        left = hi + 20
      else
        left = (lo + hi) / 2 - box_w / 2
      end
      local box_h = #lines * NOTE_LINE_H + 8
      add(string.format('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="note"/>',
                        left, y - 6, box_w, box_h))
      text_at(left + box_w / 2, y + 9, lines, "middle", "note-text")
      left_edge = math.min(left_edge, left - MARGIN)
      right_edge = math.max(right_edge, left + box_w + MARGIN)
      y = y + box_h + 10
    end
  end

  local height = y + 4
  local head = {}
  local function add_head(s) table.insert(head, s) end
  for i, name in ipairs(diagram.order) do
    add_head(string.format('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="lifeline"/>',
                           x[i], MARGIN + BOX_H, x[i], height))
    add_head(string.format('<rect x="%.1f" y="%d" width="%.1f" height="%d" rx="4" class="actor"/>',
                           x[i] - width[i] / 2, MARGIN, width[i], BOX_H))
    add_head(string.format('<text x="%.1f" y="%.1f" text-anchor="middle" class="actor-text">%s</text>',
                           x[i], MARGIN + BOX_H / 2 + FONT_PX / 2 - 2, escape(diagram.label[name])))
  end
  local view_w = right_edge - left_edge
  local svg = string.format(
    '<svg xmlns="http://www.w3.org/2000/svg" class="sequence" role="img" '
    .. 'aria-label="sequence diagram" viewBox="%.1f 0 %.1f %.1f" width="%.0f" height="%.0f">'
    .. '<defs>'
    .. '<marker id="%s-filled" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
    .. 'markerHeight="8" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="#1d1f21"/></marker>'
    .. '<marker id="%s-open" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
    .. 'markerHeight="8" orient="auto"><path d="M 0 0 L 10 5 L 0 10" fill="none" stroke="#1d1f21" stroke-width="1.5"/></marker>'
    .. '<marker id="%s-cross" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="10" '
    .. 'markerHeight="10" orient="auto"><path d="M 1 1 L 9 9 M 9 1 L 1 9" stroke="#c0392b" stroke-width="2"/></marker>'
    .. '</defs>',
    left_edge, view_w, height, view_w, height, id, id, id)
  return svg .. table.concat(head) .. table.concat(parts) .. "</svg>"
end

function CodeBlock(block)
  if block.classes[1] ~= "mermaid" then
    return nil
  end
  local source = escape(block.text)
  local diagram = parse_sequence(block.text)
  if diagram then
    return pandoc.RawBlock("html",
      '<figure class="sequence-diagram">' .. render_sequence(diagram)
      .. '<figcaption><details><summary>diagram source (Mermaid)</summary>'
      .. '<pre class="mermaid">' .. source .. '</pre></details></figcaption></figure>')
  end
  return pandoc.RawBlock("html",
    '<figure class="mermaid-source"><figcaption>diagram · Mermaid source</figcaption>'
    .. '<pre class="mermaid">' .. source .. '</pre></figure>')
end

-- The page's first heading becomes its title, so that pandoc's template puts it above the
-- table of contents (which then lists the page's sections, not the title itself).
function Pandoc(doc)
  local first = doc.blocks[1]
  if first and first.t == "Header" and first.level == 1 then
    doc.meta.title = pandoc.MetaInlines(first.content)
    doc.blocks:remove(1)
  end
  return doc
end
