#!/usr/bin/env python3
"""The house's size limits: no source file over 500 lines and no function over 60 in the
product's code (client/, server/, shared/; tests and generated code aside).

Functions are found by brace structure: a brace opened at namespace or class scope whose
declaration has a parameter list is a function body; lambdas count towards the function that
holds them. Usage: lint_sizes.py [--self-test] [ROOT]. Exits 1 listing every breach."""
import pathlib
import re
import sys

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60
FOLDERS = ("client", "server", "shared")
SKIP = ("shared/proto/",)  # generated


def strip_code(text):
    """The text with comments, strings and character literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c == "R" and text.startswith('R"', i):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c); i += 1; continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c == "'" and i > 0 and text[i - 1].isdigit() and i + 1 < n and text[i + 1].isalnum():
            out.append(c); i += 1  # a digit separator (2'000), not a character literal
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (j + 1 - i)); i = j + 1
        else:
            out.append(c); i += 1
    return "".join(out)


def long_functions(text):
    """(first line, lines, declaration) of every function body longer than the limit."""
    code = strip_code(text)
    # Preprocessor lines (and their continuations) are not declarations.
    kept, in_macro = [], False
    for row in code.split("\n"):
        is_directive = in_macro or row.lstrip().startswith("#")
        in_macro = is_directive and row.rstrip().endswith("\\")
        kept.append("" if is_directive else row)
    code = "\n".join(kept)
    stack = []  # (kind, start line, declaration)
    declaration, decl_line, line = "", 1, 1
    found = []
    for c in code:
        if c == "\n":
            line += 1
        if c in ";{}":
            at_scope = all(kind in ("namespace", "class") for kind, _, _ in stack)
            if c == "{":
                decl = " ".join(declaration.split())
                kind = "other"
                if at_scope:
                    if re.match(r"(inline\s+)?namespace\b|extern\s", decl):
                        kind = "namespace"
                    elif re.search(r"\b(class|struct|union)\b[^(]*$", decl) and not decl.startswith("enum"):
                        kind = "class"
                    elif "(" in decl and not decl.endswith("="):
                        kind = "function"
                stack.append((kind, decl_line, decl))
            elif c == "}" and stack:
                kind, start, decl = stack.pop()
                if kind == "function" and line - start + 1 > MAX_FUNCTION_LINES:
                    found.append((start, line - start + 1, decl[:80]))
            if all(kind in ("namespace", "class") for kind, _, _ in stack):
                declaration, decl_line = "", line
            continue
        if not declaration.strip() and not c.isspace():
            decl_line = line
        declaration += c
        if re.search(r"(public|private|protected):$", declaration.strip()):
            declaration = ""
    return found


def check(root):
    breaches = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.suffix not in (".h", ".cpp") or rel.startswith(SKIP):
                continue
            text = path.read_text(encoding="utf-8")
            lines = text.count("\n")
            if lines > MAX_FILE_LINES:
                breaches.append(f"{rel}: {lines} lines (the limit is {MAX_FILE_LINES})")
            for start, length, decl in long_functions(text):
                breaches.append(f"{rel}:{start}: a function of {length} lines "
                                f"(the limit is {MAX_FUNCTION_LINES}): {decl}")
    return breaches


def self_test():
    short = "namespace a {\nint f(int x) {\n  return x;\n}\n}\n"
    body = "\n".join(["  x += 1;"] * 70)
    long = "namespace a {\nstruct S {\n  int g() {\n" + body + "\n  }\n};\n}\n"
    lam = "void h() {\n  auto l = [] {\n" + body + "\n  };\n}\n"
    tricky = 'const char* s = "{";\nint k() {\n  return \'}\';\n}\n'
    included = "#include <x>\nnamespace a {\nint f() {\n" + body + "\n}\n}\n"
    assert [f[1] for f in long_functions(included)] == [72], long_functions(included)
    assert long_functions(short) == [], long_functions(short)
    assert [f[1] for f in long_functions(long)] == [72], long_functions(long)
    assert [f[1] for f in long_functions(lam)] == [74], long_functions(lam)
    assert long_functions(tricky) == []
    # A digit separator is no character literal: the long function after it is still found.
    separated = "int m() {\n  return 2'000;\n}\nint n() {\n" + body + "\n}\nchar c = 'x';\n"
    assert [f[1] for f in long_functions(separated)] == [72], long_functions(separated)
    print("lint_sizes self-test: ok")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--self-test"]:
        self_test()
        sys.exit(0)
    root = pathlib.Path(args[0] if args else ".")
    problems = check(root)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)
