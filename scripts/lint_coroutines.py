#!/usr/bin/env python3
"""Find two C++20 coroutine patterns that g++ 12 miscompiles (clang-tidy 14 finds neither).

Why: g++ 12 mishandles (a) coroutine lambdas with captures -- the captures live in the lambda
object, which can die before the coroutine frame that still reads them -- and (b) temporaries
bound to a coroutine's reference parameters inside a co_await expression, which it can destroy
twice: a braced core::Error passed to a capturing refuse() lambda was a double free in ergond.

What it reports, as `path:line: [kind] explanation` (exit 1 if any, else 0):
  capture-lambda    a lambda with a non-empty capture list ([&], [=], [this], [x], [x = y])
                    whose own body (nested lambdas excluded) has co_await/co_return/co_yield;
                    at the line of the introducer `[`.
  temporary-to-ref  after a co_await, in the same full-expression, a call to a function declared
                    in the scanned sources as returning (boost::)asio::awaitable<...> (or a
                    `using` alias; also `auto f = [..](..) -> awaitable<..>` and non-coroutine
                    functions returning one, like StoreWriter::run), where an argument bound
                    to a reference parameter (T&, const T&, T&&) is a temporary:
                    {...}, Type{...}, Type(...), a lambda, a literal, a computed value (a + b),
                    a cast or call result, or std::move/std::forward (fine only for by-value
                    parameters); at the line where the argument starts.

What it does not do: it is a heuristic over the text, not a compiler. Functions are matched by
their last name and argument count; if ANY declaration of that name and arity has a reference
parameter at a position, the position is checked. It knows no types, so it misses named
lvalues that convert to a temporary (a std::string given to a const std::string_view&) and
treats names, member accesses, subscripts, `*p`, `++x`, assignments and calls named in
LVALUE_CALLS (x.error(), std::ref(x), ...) as lvalues; it expands no macros and ignores
temporaries before the co_await or in calls outside one. By-value parameters are never
checked (with_deadline(Op op, ...) is fine), though store_writer.h records g++ 12 destroying a
by-value std::function temporary twice too. Comments and the insides of string and char
literals are blanked before matching, so they never match.

Usage: lint_coroutines.py [FILE...]    default: the git-listed (tracked or new, not ignored)
                                       *.cpp/*.h under DIRS, without FIXTURES; declarations
                                       are learned from the files scanned
       lint_coroutines.py --self-test  lint tests/lint/fixtures/ and compare with the
                                       `// LINT-EXPECT: <kind>` markers (exit 1 with a diff)
"""
import bisect, difflib, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRS, FIXTURES = ("client/", "server/", "shared/", "tests/", "bench/"), "tests/lint/fixtures/"
LVALUE_CALLS = {"error", "value", "front", "back", "at", "get", "ref", "cref", "top"}
LAMBDA_AFTER = {"return", "co_return", "co_yield", "co_await", "case"}  # words before a lambda
PAIRS, OPENERS, CLOSERS = {"(": ")", "[": "]", "{": "}", "<": ">"}, "([{", ")]}"
LEXEMES = re.compile(r"""(//[^\n]*|/\*.*?\*/)              # 1: a comment
                       | \b\d[\w']*                        # a number: 1'000 is no char literal
                       | \b(?:u8|u|U|L)?R"([^()\\\s]{0,16})\(.*?\)\2"  # a raw string
                       | (["'])(?:\\.|(?!\3)[^\\\n])*\3     # a string or char literal
                    """, re.S | re.X)
BINARY = re.compile(r"&&|\|\||<<=?|>>=?|[-+*/%&|^=!<>]=|[-+*/%<>=&|^?]")
ASSIGNMENT = re.compile(r"(<<|>>|[-+*/%&|^])?=")
LAMBDA_SPECS = re.compile(r"(?:(?:mutable|constexpr|consteval|static|noexcept(?:\s*\([^()]*\))?"
                          r"|\[\[[^\]]*\]\])\s*)*(?:->[^;={}]*?)?\s*(?=\{)")
CORO_WORD = re.compile(r"\bco_(?:await|return|yield)\b")
NAME_PAREN, WS = re.compile(r"\s*([\w:]*\w)\s*\("), re.compile(r"\s*")


def mask(src):
    """Blanks comments and the insides of literals (quotes and newlines stay, so do offsets)."""
    def blank(m):
        s = m.group()
        if s[0].isdigit():
            return s
        head = 0 if m.group(1) else s.index(s[-1]) + 1
        return s[:head] + re.sub(r"[^\n]", " ", s[head:len(s) - (head > 0)]) + s[-1] * (head > 0)
    return LEXEMES.sub(blank, src)


def close_of(t, i):
    """Index past the bracket closing the one at t[i] (one of ([{<), or -1."""
    stack = [PAIRS[t[i]]]
    for j in range(i + 1, len(t)):
        c, angle = t[j], stack[-1] == ">"
        if angle and c in ";{}":
            return -1
        if c in OPENERS or (c == "<" and angle):
            stack.append(PAIRS[c])
        elif c in CLOSERS or (c == ">" and angle and t[j - 1] != "-"):
            if c != stack.pop():
                return -1
            if not stack:
                return j + 1
    return -1


def open_of(t, j, openers=OPENERS, closers=CLOSERS):
    """Index of the bracket opening the one closing at t[j], or -1."""
    depth = 0
    for k in range(j, -1, -1):
        depth += (t[k] in closers) - (t[k] in openers)
        if depth == 0:
            return k
    return -1


def template_end(t, i, end):
    """Index past the '>' when the '<' at t[i] (after a name) opens template arguments, else 0."""
    if i == 0 or not (t[i - 1].isalnum() or t[i - 1] == "_"):
        return 0
    j = close_of(t, i)
    return j if 0 < j <= end and re.fullmatch(r"[\w\s:,*&<>()\[\]]*", t[i:j]) else 0


def split_top(t, a, b):
    """(start, end) of each top-level comma-separated item of t[a:b]."""
    items, start, k = [], a, a
    while 0 <= k < b:
        if t[k] in OPENERS or (t[k] == "<" and template_end(t, k, b)):
            k = close_of(t, k)
            continue
        if t[k] == ",":
            items.append((start, k))
            start = k + 1
        k += 1
    return items + [(start, b)] if t[start:b].strip() else items


def param_info(p):
    """(is_reference, is_pack, has_default) of one parameter declaration."""
    items = split_top(p.replace("=", ","), 0, len(p))  # a top-level '=' starts a default
    top = decl = p[:items[1][0] - 1] if len(items) > 1 else p
    while top != (top := re.sub(r"<[^<>]*>|\([^()]*\)", "", top)):
        pass
    return "&" in top, "..." in decl, len(items) > 1


def skip_ws(t, k):
    return WS.match(t, k).end()


def back_ws(t, k):
    while k > 0 and t[k - 1].isspace():
        k -= 1
    return k


class Source:
    def __init__(self, path, text):
        self.path, self.raw, self.t = path, text, mask(text)
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, off):
        return bisect.bisect_right(self.starts, off)


def collect_declarations(sources):
    """name -> [[(is_ref, is_pack, has_default) per parameter], ...] of awaitable functions."""
    aliases = {"awaitable"} | {m.group(1) for s in sources for m in re.finditer(
        r"\busing\s+(\w+)\s*=\s*(?:typename\s+)?[\w:]*\bawaitable\b", s.t)}
    typ = re.compile(r"(?:[\w:]*::)?\b(?:%s)\b\s*" % "|".join(sorted(aliases)))
    decls = {}
    for s in sources:
        t = s.t
        for m in typ.finditer(t):
            end = close_of(t, m.end()) if t.startswith("<", m.end()) else m.end()
            name, paren, k = None, -1, back_ws(t, m.start())
            if end < 0:
                continue
            if t[k - 2:k] == "->" and t.rfind(")", 0, k) > 0:  # f(params) [specs] -> T
                paren = open_of(t, t.rfind(")", 0, k))
                h = back_ws(t, paren)
                if t[h - 1:h] == "]":  # a lambda: auto name = [..](params) -> T
                    h = max(0, open_of(t, h - 1))
                    nm = re.search(r"(\w+)\s*=\s*$", t[max(0, h - 200):h])
                else:
                    nm = re.search(r"(\w+)\s*$", t[max(0, h - 200):h])
                name = paren > 0 and nm and nm.group(1)
            elif nm := NAME_PAREN.match(t, end):
                name, paren = nm.group(1).split("::")[-1], nm.end() - 1
            close = close_of(t, paren) if name and paren > 0 else -1
            if close > 0 and name not in ("operator", "decltype"):
                items = [t[a:b].strip() for a, b in split_top(t, paren + 1, close - 1)]
                decls.setdefault(name, []).append([param_info(p) for p in items if p != "void"])
    return decls


def top_level_ops(e):
    """[(offset, token)] of the binary operators and '?' at the top level of expression e."""
    ops, k = [], 0
    while 0 <= k < len(e):
        if e[k] in OPENERS or (e[k] == "<" and template_end(e, k, len(e))):
            k = close_of(e, k)
        elif e[k:k + 2] in ("++", "--", "->", "::"):
            k += 2
        elif (m := BINARY.match(e, k)) and re.search(r"[\w)\]}\"']\s*$", e[:k]):
            ops.append((k, m.group()))
            k = m.end()
        else:
            k += 1
    return ops


def classify(e):
    """Why the argument e (masked text) is a temporary, or None when it is taken for an lvalue."""
    e = e.strip()
    ops = top_level_ops(e) if e else []
    if not e or (ops and ASSIGNMENT.fullmatch(ops[0][1])):
        return None  # an assignment yields an lvalue
    if q := next((k for k, tok in ops if tok == "?"), None):
        rest = e[q + 1:]
        colon = next((k for k, _ in split_top(re.sub(r"::", "  ", rest).replace(":", ","), 0,
                                                len(rest))[1:]), 0)
        return (classify(rest[:colon - 1]) or classify(rest[colon:])) if colon else classify(rest)
    if ops or (e[0] in "&!-~+" and not e.startswith(("++", "--"))):
        return "a computed value (temporary)"
    if e[0] == "*" or e.startswith(("++", "--")):
        return None
    if re.match(r'(u8|u|U|L)?R?"', e):
        return "a string literal (a temporary std::string for a const std::string&)"
    if re.match(r"\.?\d|(u8|u|U|L)?'", e) or e in ("true", "false", "nullptr", "this"):
        return "a literal or prvalue (temporary)"
    if re.match(r"new\b", e):
        return "a new-expression (a temporary pointer)"
    if e[-1] == "}":
        if e[0] == "[":
            return "a lambda (a temporary closure)"
        return "a braced initializer (temporary)" if open_of(e, len(e) - 1) == 0 else \
            "a construction Type{...} (temporary)"
    if e[-1] != ")":
        return None  # names, member accesses, subscripts
    callee = e[:open_of(e, len(e) - 1)].strip()
    if not callee:
        return classify(e[1:-1])
    if re.search(r"_cast\s*<", callee):
        return None if re.search(r"&\s*>$", callee) else "a cast result (temporary)"
    while callee.endswith(">"):  # std::forward<T> -> std::forward
        callee = callee[:max(0, open_of(callee, len(callee) - 1, "<", ">"))].rstrip()
    name = (re.findall(r"\w+", callee) or ["?"])[-1]
    if name in ("move", "forward"):
        return "std::%s(...), an xvalue (no temporary, but the coroutine keeps a reference)" % name
    return None if name in LVALUE_CALLS else "the result of %s(...) (temporary)" % name


def co_await_regions(t):
    """(start, end) from each co_await to the end of its full-expression."""
    for m in re.finditer(r"\bco_await\b", t):
        depth, k = 0, m.end()
        while k < len(t) and depth >= 0 and not (t[k] == ";" and depth == 0):
            depth += (t[k] in OPENERS) - (t[k] in CLOSERS)
            k += 1
        yield m.end(), k


def find_temporaries(s, decls, report):
    t = s.t
    call = re.compile(r"\b(%s)\s*(?=[(<])" % "|".join(map(re.escape, decls)))
    for a, b in co_await_regions(t) if decls else ():
        for m in call.finditer(t, a, b):
            paren = m.end()
            if t[paren] == "<":  # f<T>(...)
                paren = template_end(t, paren, b)
                paren = paren and skip_ws(t, paren)
                if not paren or t[paren:paren + 1] != "(":
                    continue
            close = close_of(t, paren)
            args = split_top(t, paren + 1, close - 1) if close > 0 else []
            for pos, (x, y) in enumerate(args):
                refs = False
                for params in decls[m.group(1)]:
                    required = sum(1 for p in params if not (p[1] or p[2]))
                    pack = next((i for i, p in enumerate(params) if p[1]), None)
                    if required <= len(args) <= len(params) or (pack is not None and pack <= len(args)):
                        refs |= params[pos if pack is None or pos < pack else pack][0]
                why = refs and classify(t[x:y])
                if why:
                    off = skip_ws(t, x)
                    code = s.raw[off:y].strip()
                    if "\n" in code or len(code) > 50:
                        code = code.split("\n")[0][:46] + " ..."
                    report(s, off, "temporary-to-ref",
                           "argument %d of %s(...), `%s`, is %s bound to a reference parameter of "
                           "a coroutine inside co_await (g++ 12 can destroy such temporaries "
                           "twice); name it in a local first, or take the parameter by value"
                           % (pos + 1, m.group(1), code, why))


def find_lambdas(t):
    """[(offset of '[', capture list, body start, body end)] of every lambda in masked text t."""
    found = []
    for m in re.finditer(r"(?<!\[)\[(?!\[)", t):
        i = m.start()
        prev = re.search(r"(\w+|\S)\s*$", t[max(0, i - 64):i])
        word = prev.group(1) if prev else ""
        if word and (word[-1] in ")]\"'" or re.match(r"\w", word[-1]) and word not in LAMBDA_AFTER):
            continue  # a subscript, a structured binding or an operator[]
        k = close_of(t, i)
        capture, k = t[i + 1:k - 1].strip(), (k if k < 0 else skip_ws(t, k))
        for opener in "<(":  # template parameters, then the parameters
            if 0 <= k < len(t) and t[k] == opener:
                k = close_of(t, k)
                k = k if k < 0 else skip_ws(t, k)
        spec = LAMBDA_SPECS.match(t, k) if k >= 0 else None
        end = close_of(t, spec.end()) if spec else -1
        if end > 0:
            found.append((i, capture, spec.end(), end))
    return found


def find_capture_lambdas(s, report):
    lambdas = find_lambdas(s.t)
    for i, capture, body, end in lambdas:
        inner = [(b, e) for _, _, b, e in lambdas if body < b and e <= end]
        if capture and any(not any(b <= w.start() < e for b, e in inner)
                           for w in CORO_WORD.finditer(s.t, body, end)):
            report(s, i, "capture-lambda",
                   "lambda capturing [%s] is a coroutine: its captures live in the lambda object, "
                   "which may die before the frame (g++ 12); make it a named function or member "
                   "coroutine taking them as by-value parameters" % " ".join(capture.split()))


def lint(paths):
    sources = []
    for p in paths:
        with open(os.path.join(ROOT, p), encoding="utf-8", errors="replace") as f:
            sources.append(Source(p, f.read()))
    decls, findings = collect_declarations(sources), set()

    def report(s, off, kind, msg):
        findings.add((s.path, s.line(off), kind, msg))

    for s in sources:
        find_capture_lambdas(s, report)
        find_temporaries(s, decls, report)
    return sorted(findings)


def project_files():
    try:  # tracked files plus new, not ignored ones, so a file not yet added is linted too
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                              "*.cpp", "*.h"], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = [os.path.relpath(os.path.join(d, f), ROOT) for d, _, fs in os.walk(ROOT) for f in fs]
    return sorted({p for p in out if p.startswith(DIRS) and not p.startswith(FIXTURES)
                   and p.endswith((".cpp", ".h")) and os.path.isfile(os.path.join(ROOT, p))})


def self_test():
    paths = sorted(os.path.relpath(os.path.join(d, f), ROOT) for d, _, fs in
                   os.walk(os.path.join(ROOT, FIXTURES)) for f in fs if f.endswith((".cpp", ".h")))
    expected = set()
    for p in paths:
        with open(os.path.join(ROOT, p), encoding="utf-8") as f:
            for n, text in enumerate(f, 1):
                expected |= {(p, n, k) for k in re.findall(r"LINT-EXPECT:\s*([\w-]+)", text)}
    got = {f[:3] for f in lint(paths)}
    if paths and expected == got:
        print("self-test: %d findings expected in %d fixture file(s), all reported, no others"
              % (len(got), len(paths)))
        return 0
    show = lambda found: ["%s:%d: [%s]\n" % f for f in sorted(found)]
    sys.stdout.writelines(difflib.unified_diff(show(expected), show(got), "expected", "reported"))
    return 1


def main(argv):
    if argv[1:2] == ["--self-test"]:
        return self_test()
    findings = lint(argv[1:] or project_files())
    for path, line, kind, msg in findings:
        print("%s:%d: [%s] %s" % (path, line, kind, msg))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
