#!/usr/bin/env bash
# docs/build-site.sh [OUT] — render the course into a static HTML site, offline (`make docs`).
#
# Renders every page under docs/, the labs' READMEs and the top-level README with Debian's
# pandoc into OUT (default build/site/), keeping the repository's layout, so that the pages'
# relative links work once `.md` becomes `.html` (docs/site.lua rewrites them). Each page gets
# docs/site.css, a bar with the course index and its English/Korean twin, and a table of
# contents. No Debian package renders Mermaid offline, so docs/site.lua draws the sequence
# diagrams itself, as inline SVG; any other Mermaid diagram stays as its source text.
# OUT/index.html lists every page in course order. At the end, every local link and anchor of
# the built site is checked; a dead one fails the build. Needs: pandoc (apt-get install pandoc).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/build/site}
HERE="$ROOT/docs"

if ! command -v pandoc >/dev/null; then
    echo "build-site: pandoc is not installed; install it with: apt-get install pandoc" >&2
    exit 1
fi

# The pages in course order: the reading order of docs/README.md, then the labs, then the rest.
COURSE_ORDER=(
    docs/README docs/first-day docs/student-guide docs/contract
    docs/concepts/sockets docs/concepts/addresses docs/concepts/tcp docs/concepts/udp
    docs/concepts/timeouts docs/concepts/reliability docs/concepts/multiplexing
    docs/concepts/windows
    docs/concepts/tftp
    docs/concepts/debugging
    docs/instructor-guide
)

cd "$ROOT"
mapfile -t found < <( { find docs -name '*.md'; ls labs/*/README*.md README*.md 2>/dev/null; } \
                      | LC_ALL=C sort -u)
pages=()
for stem in "${COURSE_ORDER[@]}"; do
    for page in "$stem.md" "$stem.ko.md"; do [[ -f $page ]] && pages+=("$page"); done
done
for page in "${found[@]}"; do
    [[ " ${pages[*]} " == *" $page "* ]] || pages+=("$page")
done

# Build beside OUT and swap at the end: a failed build leaves the previous site whole.
mkdir -p "$(dirname "$OUT")"
tmp=$(mktemp -d "${OUT%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$HERE/site.css" "$tmp/site.css"
assets="$tmp/.assets"
: >"$assets"

# title_of PAGE: the text of its first level-1 heading, without Markdown marks.
title_of() {
    local title
    title=$(grep -m1 '^# ' "$1" | sed -e 's/^# *//' -e 's/[`*]//g' || true)
    echo "${title:-$(basename "$1" .md)}"
}

html_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' <<<"$1"; }

# render_page PAGE: PAGE.md → $tmp/PAGE.html, with the bar on top and the table of contents.
render_page() {
    local page=$1 out up lang contents contents_label twin twin_lang twin_label nav
    out="$tmp/${page%.md}.html"
    mkdir -p "$(dirname "$out")"
    # From the page's folder back up to the site's root: "", "../", "../../"...
    up=$(dirname "$page" | sed -e 's|^\.$||' -e 's|[^/][^/]*|..|g' -e 's|[^/]$|&/|')
    lang=en contents=docs/README.md contents_label=Contents
    twin=${page%.md}.ko.md twin_lang=ko twin_label="한국어"
    if [[ $page == *.ko.md ]]; then
        lang=ko contents=docs/README.ko.md contents_label="목차"
        twin=${page%.ko.md}.md twin_lang=en twin_label=English
    fi
    nav="<nav class=\"site-nav\"><a href=\"${up}index.html\">socklab</a>"
    if [[ -f $contents && $page != "$contents" ]]; then
        nav+=" · <a href=\"${up}${contents%.md}.html\">$contents_label</a>"
    fi
    if [[ -f $twin ]]; then
        nav+=" · <a href=\"$(basename "${twin%.md}").html\" hreflang=\"$twin_lang\">$twin_label</a>"
    fi
    printf '%s</nav>\n' "$nav" >"$out.nav"
    SITE_ASSETS="$assets" pandoc --from gfm --to html5 --standalone \
        --lua-filter "$HERE/site.lua" \
        --css "${up}site.css" \
        --toc --toc-depth 2 \
        --metadata pagetitle="$(title_of "$page")" --variable lang="$lang" \
        --metadata toc-title="$([[ $lang == ko ]] && echo "이 페이지" || echo "On this page")" \
        --include-before-body "$out.nav" \
        --output "$out" "$page"
    rm -f "$out.nav"
}

# pandoc takes a moment to start: render the pages a few at a time.
export tmp HERE assets
export -f render_page title_of
printf '%s\0' "${pages[@]}" | xargs -0 -n 1 -P "$(nproc 2>/dev/null || echo 2)" \
    bash -c 'set -euo pipefail; render_page "$1"' render_page

# Files the pages link to that are not pages (a skeleton's source, a script): copy them, so
# that the site's links work too.
sort -u "$assets" | while read -r asset; do
    [[ -n $asset ]] || continue
    resolved=$(realpath -m --relative-to="$ROOT" "$asset")
    if [[ $resolved == ../* || ! -f $resolved ]]; then continue; fi
    mkdir -p "$tmp/$(dirname "$resolved")"
    cp "$resolved" "$tmp/$resolved"
done
rm -f "$assets" "$tmp/.nav.html"

# The site's front page: every page, in course order, English and Korean side by side.
{
    echo '<!DOCTYPE html>'
    echo '<html lang="en"><head><meta charset="utf-8">'
    echo '<meta name="viewport" content="width=device-width, initial-scale=1">'
    echo '<title>socklab — socket programming in C, the course</title>'
    echo '<link rel="stylesheet" href="site.css"></head><body>'
    echo '<h1>socklab — socket programming in C</h1>'
    echo '<p>The course, in reading order. Every page has an English and a Korean version.'
    echo '<br>과정의 모든 페이지를 읽는 순서대로 모았습니다. 각 페이지는 영어와 한국어로 있습니다.'
    echo '</p><table class="site-index">'
    echo '<thead><tr><th>English</th><th>한국어</th><th>file</th></tr></thead><tbody>'
    for page in "${pages[@]}"; do
        [[ $page == *.ko.md ]] && continue
        ko=${page%.md}.ko.md
        printf '<tr><td><a href="%s">%s</a></td><td>' "${page%.md}.html" \
            "$(html_escape "$(title_of "$page")")"
        [[ -f $ko ]] && printf '<a href="%s">%s</a>' "${ko%.md}.html" \
            "$(html_escape "$(title_of "$ko")")"
        printf '</td><td><code>%s</code></td></tr>\n' "$page"
    done
    for page in "${pages[@]}"; do     # Korean pages with no English original, if any
        [[ $page == *.ko.md && ! -f ${page%.ko.md}.md ]] || continue
        printf '<tr><td></td><td><a href="%s">%s</a></td><td><code>%s</code></td></tr>\n' \
            "${page%.md}.html" "$(html_escape "$(title_of "$page")")" "$page"
    done
    echo '</tbody></table></body></html>'
} >"$tmp/index.html"

# Every local link of the site must lead somewhere: a page, a copied file, an anchor.
/usr/bin/python3 - "$tmp" <<'EOF'
import html, re, sys
from pathlib import Path
from urllib.parse import unquote

site = Path(sys.argv[1])
ids: dict[Path, set[str]] = {}

def ids_of(page: Path) -> set[str]:
    if page not in ids:
        ids[page] = {html.unescape(i) for i in re.findall(r'\bid="([^"]+)"', page.read_text())}
    return ids[page]

dead = []
for page in sorted(site.rglob("*.html")):
    for href in re.findall(r'\bhref="([^"]+)"', page.read_text()):
        href = html.unescape(href)
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href) or href.startswith("//"):
            continue
        path, _, anchor = href.partition("#")
        target = (page.parent / unquote(path)).resolve() if path else page
        if not target.exists():
            dead.append(f"{page.relative_to(site)}: {href} (no such file)")
        elif anchor and target.suffix == ".html" and unquote(anchor) not in ids_of(target):
            dead.append(f"{page.relative_to(site)}: {href} (no such anchor)")
if dead:
    print("build-site: dead links in the site:", *dead, sep="\n  ", file=sys.stderr)
    sys.exit(1)
EOF

rm -rf "$OUT"
mv "$tmp" "$OUT"
trap - EXIT
echo "build-site: ${#pages[@]} pages rendered into $OUT (open $OUT/index.html)"
