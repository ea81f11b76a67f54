"""Plays the participants of a study for benchmarks and demos: for each personal link,
open it, press the button, pick an account on the simulator's Google consent page, tick
every box, Allow, and land on the thank-you page -- the browser's requests, cookies
included, without a browser (tests/it/enroll.rs drives real Chromium).

    python scripts/enroll_driver.py LINKS_FILE

LINKS_FILE holds `fitpipe enroll STUDY link` output (`ID<TAB>LINK`); participant n picks
the n-th account of the simulator's list. Prints how many enrolled.
"""
import html
import http.cookiejar
import re
import sys
import urllib.parse
import urllib.request

links = [l.split("\t") for l in open(sys.argv[1]).read().splitlines() if l.strip()]
done = 0
for n, (pid, link) in enumerate(links):
    jar = http.cookiejar.CookieJar()
    web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = web.open(link).read().decode()
    csrf = re.search(r'name=csrf value="([^"]+)"', page).group(1)
    # The consent button: 303 to the provider's page, which urllib follows.
    r = web.open(urllib.request.Request(link, data=urllib.parse.urlencode({"csrf": csrf}).encode()))
    consent_url, page = r.geturl(), r.read().decode()
    fields = [(k, html.unescape(v)) for k, v in re.findall(r'<input type=hidden name="(\w+)" value="([^"]*)">', page)]
    accounts = re.findall(r'<option value="([^"]+)">', page)
    scopes = re.findall(r'name=granted value="([^"]+)"', page)
    form = fields + [("user", accounts[n % len(accounts)]), ("decision", "allow")]
    form += [("granted", html.unescape(s)) for s in scopes]
    base = consent_url.split("/o/oauth2")[0]
    r = web.open(urllib.request.Request(base + "/o/oauth2/v2/auth", data=urllib.parse.urlencode(form).encode()))
    if "Thank you" in r.read().decode():
        done += 1
    else:
        print(f"{pid}: no thank-you page", file=sys.stderr)
print(done)
