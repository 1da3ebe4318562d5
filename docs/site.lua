-- docs/site.lua — pandoc filter for docs/build-site.sh.
--
-- * Links between pages: "page.md#anchor" becomes "page.html#anchor", so that the site's
--   links work; web addresses and in-page anchors are left alone.
-- * Links to other files of the repository (a skeleton's server.c, a script) are listed in the
--   file named by $SITE_ASSETS, relative to the page's folder, for the script to copy.
-- * Mermaid blocks: shown as their source in a framed, labelled block (no Debian package
--   renders Mermaid offline).

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

function CodeBlock(block)
  if block.classes[1] ~= "mermaid" then
    return nil
  end
  local escaped = block.text:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;")
  return pandoc.RawBlock("html",
    '<figure class="mermaid-source"><figcaption>sequence diagram · Mermaid</figcaption>'
    .. '<pre class="mermaid">' .. escaped .. '</pre></figure>')
end
