#!/usr/bin/env python3
# allowlists.t - every thread's seccomp allowlist (vmm/seccomp.c) derived
# from the calls its code can reach, and checked against the tables.
#
# The call graph is GCC's own (-fcallgraph-info), of kvmini's sources
# compiled at -O0 into $BUILD/callgraph (no inlining, so every function is
# a node and every call site an edge with its line; make callgraph).  For
# each thread role, the code it runs once confined is:
#   - the rest of the function that calls seccomp_confine(SECCOMP_X),
#     after that call (the thread's loop; for the vCPU role, main()'s run,
#     --stats, --report and, through exit(), the at-exit teardown);
#   - every function those call, directly, or indirectly: an indirect call
#     may reach any function whose address is taken and whose type is the
#     pointer's (GCC's final GIMPLE dump gives both types; typedef names
#     and qualifiers are set aside), but the threads' own entry functions;
#   - the SIGSYS handler (seccomp.c), on every thread.
# What those functions ask of the kernel: the C library functions they call
# (LIBC below: the system calls musl 1.2 makes in each; a function not in
# the table fails the test until someone says what it calls), the request
# of every ioctl() call site (its second argument, read from the source),
# and the number of every syscall() call site.  Then, per role, the
# allowlist must hold every derived call (none missing: kvmini would stop
# itself, exit 12) and nothing else (none extra), save the calls in
# IMPLICIT, which no call site shows.
#
# A function pointer cast to another type before it is called would escape
# the type match: kvmini has none (a cast like that is a bug the compiler
# warns about only sometimes; keep it so).
#
# Output: TAP, one line per role and direction, with the call path to
# anything missing and the list of anything extra.
import glob
import os
import re
import subprocess
import sys

BUILD = os.environ.get("BUILD", "build")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.chdir(ROOT)

n = 0
failed = 0


def tap(ok, what, detail=()):
    global n, failed
    n += 1
    failed += not ok
    print(("ok" if ok else "not ok") + " %d - %s" % (n, what))
    for d in detail:
        print("# " + d)


# ---- the C library: what musl 1.2 asks of the kernel in each function ----
# (src/ of musl 1.2.3; the vDSO answers clock_gettime first, the system
# call is its fallback).  PURE functions make no system call.
PURE = set("""
memcpy memmove memset memcmp strlen strnlen strcmp strncmp strchr strrchr strstr strcspn
strspn strncpy strcpy strtoul strtoull strtol strtoll strtod sscanf snprintf vsnprintf
sprintf __errno_location strerror abs labs isspace isdigit isxdigit tolower toupper
sigemptyset sigfillset sigaddset sigdelset sigismember pthread_self gmtime_r ferror
""".split())
LIBC = {
    "write": ["write"], "read": ["read"], "readv": ["readv"], "writev": ["writev"],
    "pread": ["pread64"], "pwrite": ["pwrite64"], "close": ["close"],
    "ioctl": ["ioctl"], "poll": ["poll"], "ppoll": ["ppoll"],
    "epoll_wait": ["epoll_pwait", "epoll_wait"], "epoll_ctl": ["epoll_ctl"],
    "epoll_create1": ["epoll_create1"], "mincore": ["mincore"], "madvise": ["madvise"],
    "mmap": ["mmap"], "munmap": ["munmap"], "mprotect": ["mprotect"], "prctl": ["prctl"],
    "clock_gettime": ["clock_gettime"], "time": ["clock_gettime"],
    "gettimeofday": ["clock_gettime"],
    "pthread_mutex_lock": ["futex"], "pthread_mutex_unlock": ["futex"],
    "pthread_mutex_trylock": ["futex"], "pthread_cond_wait": ["futex"],
    "pthread_cond_signal": ["futex"], "pthread_cond_broadcast": ["futex"],
    "pthread_cond_timedwait": ["futex"], "pthread_join": ["futex"],
    "pthread_kill": ["tkill"], "pthread_sigmask": ["rt_sigprocmask"],
    "sigprocmask": ["rt_sigprocmask"],
    "pthread_attr_init": [], "pthread_attr_destroy": [], "pthread_attr_setdetachstate": [],
    # a new thread: its stack and guard page, the clone, signals blocked
    # around it, the thread list lock
    "pthread_create": ["mmap", "mprotect", "munmap", "clone", "rt_sigprocmask", "futex"],
    # mallocng: brk, then mmap; freed groups go back with munmap or madvise
    "malloc": ["brk", "mmap", "munmap", "madvise", "futex"],
    "calloc": ["brk", "mmap", "munmap", "madvise", "futex"],
    "realloc": ["brk", "mmap", "munmap", "madvise", "mremap", "futex"],
    "free": ["munmap", "madvise", "futex"],
    # stdio on an open FILE: writev (and read for input); stdout, or any
    # FILE that may be stdout (STREAM_ARG), asks TIOCGWINSZ once, to choose
    # line buffering
    "fprintf": ["writev", "write", "futex"], "vfprintf": ["writev", "write", "futex"],
    "printf": ["writev", "write", "futex"], "fputs": ["writev", "write", "futex"],
    "fputc": ["writev", "write", "futex"], "putc": ["writev", "write", "futex"],
    "puts": ["writev", "write", "futex"], "putchar": ["writev", "write", "futex"],
    "vprintf": ["writev", "write", "futex"],
    "fwrite": ["writev", "write", "futex"], "fflush": ["writev", "write", "futex"],
    "fclose": ["writev", "write", "close", "futex"],
    "fgets": ["read", "readv", "futex"],
    # exit: the atexit handlers (EXIT_HANDLERS below), stdio flushed (a
    # FILE read from gets its position back: lseek), then exit_group
    "exit": ["writev", "write", "lseek", "exit_group", "futex"], "_exit": ["exit_group"],
    "syscall": [],  # the number is read from each call site
    "strdup": ["brk", "mmap", "munmap", "madvise", "futex"],  # malloc
    # kvmini asks only _SC_PAGESIZE, which musl answers from the aux vector
    "sysconf": [],
}
# Which argument is the FILE (None: stdout); a FILE that is not stderr may
# be stdout, whose first write asks TIOCGWINSZ.
STREAM_ARG = {"fprintf": 0, "vfprintf": 0, "fputs": 1, "fputc": 1, "putc": 1, "fwrite": 3,
              "fflush": 0, "fclose": 0, "printf": None, "vprintf": None, "puts": None,
              "putchar": None}
# Threads the vCPU thread starts after it confined itself (at the guest's
# first use of their device): until they confine themselves they run under
# the vCPU thread's program (seccomp.c, thread_rows).
LAZY = ["io", "serial"]
# Functions reached only through a pointer that setup clears before any
# thread confines itself: function -> (the pointer, the file that clears
# it).  Checked: that file sets the pointer to NULL before its
# seccomp_confine(SECCOMP_VCPU) and before vcpu_threads_start(), and the
# function's name appears nowhere but in assignments to that pointer.
SETUP_POINTERS = {
    # a run that stops during setup leaves a short --report (host facts
    # read again, so opens): die() calls it through die_hook
    "vmm/main.c:report_setup_failure": ("die_hook", "vmm/main.c"),
}
# A function of one of these types whose address is taken is a signal
# handler (sigaction, signal).
SIGNAL_HANDLER_TYPES = {"void (int)", "void (int, struct siginfo_t *, void *)"}
# Never allowed after setup: opening anything, processes (docs/confinement.md).
SETUP_ONLY = set("open openat fopen opendir creat socket execve fork".split())
# What atexit() registered: exit() runs it on the thread that calls exit.
EXIT_HANDLERS = ["vmm/main.c:teardown"]

# Calls no call site shows, per role ("all" for every thread):
IMPLICIT = {
    "all": {
        "rt_sigreturn": "the kernel's return from a signal handler (SIGSYS, the kick)",
        "exit": "musl ends a thread with SYS_exit once its function returns",
        "munmap": "musl unmaps a detached thread's stack on its way out",
        "madvise": "musl's thread exit gives its stack back",
        "rt_sigprocmask": "musl blocks signals around a thread's exit",
        "futex": "musl's thread exit wakes pthread_join",
    },
}

ROLE_OF = {"SECCOMP_VCPU": "vcpu", "SECCOMP_IO": "io", "SECCOMP_SERIAL": "serial",
           "SECCOMP_VFIO_EVENTS": "events"}
BITS = {"V": "vcpu", "I": "io", "S": "serial", "E": "events"}


# ---- the call graph ----
def load_graph():
    cis = sorted(glob.glob(BUILD + "/callgraph/**/*.ci", recursive=True))
    defined = {}  # title -> (file, line)
    edges = {}  # title -> [(target, file, line, col)]
    for ci in cis:
        for line in open(ci):
            m = re.match(r'node: \{ title: "([^"]+)" label: "[^\\]*\\n([^:]+):(\d+):\d+"( shape)?',
                         line)
            if m and not m.group(4):
                defined[m.group(1)] = (m.group(2), int(m.group(3)))
            m = re.match(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)" label: "([^:]+):(\d+):(\d+)"',
                         line)
            if m:
                edges.setdefault(m.group(1), []).append(
                    (m.group(2), m.group(3), int(m.group(4)), int(m.group(5))))
    return cis, defined, edges


TYPEDEFS = {
    "uint64_t": "long unsigned int", "size_t": "long unsigned int", "uintptr_t": "long unsigned int",
    "int64_t": "long int", "ssize_t": "long int", "off_t": "long int", "intptr_t": "long int",
    "uint32_t": "unsigned int", "int32_t": "int", "uint16_t": "short unsigned int",
    "int16_t": "short int", "uint8_t": "unsigned char", "int8_t": "signed char",
    "bool": "_Bool",
}


def norm_type(t):
    t = re.sub(r"<T[0-9a-f]+>", "", t)
    t = re.sub(r"\b(const|volatile|restrict|__restrict)\b", "", t)
    for k, v in TYPEDEFS.items():
        t = re.sub(r"\b%s\b" % k, v, t)
    return re.sub(r"\s+", " ", t.replace("*", " * ")).strip()


def split_top(text):
    depth, cur, out = 0, "", []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [x.strip() for x in out]


def fn_sig(ret, params):
    ps = [norm_type(p) for p in params]
    if ps in ([], ["void"]):
        ps = ["void"]
    return norm_type(ret) + " (" + ", ".join(ps) + ")"


def ptr_sig(t):
    """'void * (*<T4aa>) (void *, uint64_t)' -> its function type."""
    m = re.match(r"(.*?)\(\*[^)]*\)\s*\((.*)\)\s*$", t)
    if not m:
        return None
    return fn_sig(m.group(1), split_top(m.group(2)))


def strip_name(param):
    """'struct bus * bus' -> 'struct bus *'; 'void (*f) (int) cb' -> 'void (*f) (int)'."""
    param = param.strip()
    if param == "..." or not re.search(r"[\w)*]\s+[A-Za-z_]\w*$", param):
        return param
    return re.sub(r"\s*\b[A-Za-z_]\w*$", "", param)


def gimple_types(defined):
    """From the .optimized dumps: the type of every defined function, and
    for every indirect call site (file, line, col) the pointer's type."""
    fsig, sites = {}, {}
    for dump in glob.glob(BUILD + "/callgraph/**/*.optimized", recursive=True):
        rel = os.path.relpath(os.path.dirname(dump), BUILD + "/callgraph")
        src = os.path.join(rel, os.path.basename(dump).split(".c.")[0] + ".c")
        lines = open(dump).read().split("\n")
        i = 0
        while i < len(lines):
            m = re.match(r";; Function (\S+) ", lines[i])
            if not m:
                i += 1
                continue
            name = m.group(1)
            title = src + ":" + name if src + ":" + name in defined else name
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("__attribute__")):
                i += 1
            sm = re.match(r"(.*?)\b" + re.escape(name) + r" \((.*)\)\s*$", lines[i])
            params = {}
            if sm:
                plist = split_top(sm.group(2))
                fsig[title] = fn_sig(sm.group(1), [strip_name(p) for p in plist])
                for p in plist:
                    pm = re.search(r"([A-Za-z_]\w*)$", p)
                    if pm:
                        params[pm.group(1)] = strip_name(p)
            decls = {}
            i += 1
            while i < len(lines) and not lines[i].startswith(";; Function"):
                ln = lines[i]
                dm = re.match(r"  (\S.*\S)\s+([A-Za-z_][\w.]*);$", ln)
                if dm and not ln.lstrip().startswith("["):
                    decls[dm.group(2)] = dm.group(1)
                cm = re.match(r"\s*\[([^:\]]+):(\d+):(\d+)\] (?:[\w.]+ = )?(\S+) \(", ln)
                if cm:
                    full = cm.group(4).replace("(D)", "")
                    base = re.sub(r"_\d+$", "", full)
                    t = decls.get(full) or decls.get(base) or params.get(base)
                    if t and "(*" in t:
                        sites[(cm.group(1), int(cm.group(2)), int(cm.group(3)))] = ptr_sig(t)
                i += 1
    return fsig, sites


def address_taken(defined):
    """Functions whose address is taken: referred to from data (a table, an
    initializer), or from code other than a call or a jump to them."""
    taken = set()

    def take(src, sym):
        sym = re.sub(r"[-+]0x[0-9a-f]+$", "", sym)
        if sym.startswith(".text."):
            sym = sym[len(".text."):]
            for t in (src + ":" + sym, sym):
                if t in defined:
                    taken.add(t)
                    return
        elif sym in defined:
            taken.add(sym)

    for obj in glob.glob(BUILD + "/callgraph/**/*.o", recursive=True):
        src = os.path.relpath(obj, BUILD + "/callgraph")[:-2] + ".c"
        out = subprocess.run(["readelf", "-rW", obj], capture_output=True, text=True).stdout
        section = ""
        for line in out.splitlines():
            m = re.match(r"Relocation section '([^']+)'", line)
            if m:
                section = m.group(1)
                continue
            f = line.split()
            if len(f) >= 5 and f[2].startswith("R_X86_64_") and not section.startswith(".rela.text"):
                take(src, f[4])
        out = subprocess.run(["objdump", "-dr", "--no-show-raw-insn", obj], capture_output=True,
                             text=True).stdout
        last = ""
        for line in out.splitlines():
            m = re.match(r"\s+[0-9a-f]+: R_X86_64_\w+\s+(\S+)", line)
            if m:
                if not re.match(r"(call|jmp)\b", last):
                    take(src, m.group(1))
                continue
            m = re.match(r"\s+[0-9a-f]+:\s+(\S.*)", line)
            if m:
                last = m.group(1)
    return taken


_src = {}


def src_at(path, line, col):
    if path not in _src:
        _src[path] = open(path).read().split("\n")
    text = "\n".join(_src[path][line - 1:line + 5])
    return text[col - 1:]


def call_args(text):
    """The top-level arguments of the call text starts with."""
    i = text.index("(") + 1
    depth, cur, args = 0, "", []
    while i < len(text):
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append(cur.strip())
                return args
            depth -= 1
        if c == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    return args


def confine_sites(edges):
    """(role, function, line) for every seccomp_confine(SECCOMP_X) call, and
    for each role the rest of seccomp_confine() itself, after its seccomp()
    system call: the filter binds the thread from there on (its trace line
    is written under it)."""
    sites = []
    installed = [l for (t, f, l, c) in edges.get("seccomp_confine", [])
                 if t == "syscall" and call_args(src_at(f, l, c))[0] == "SYS_seccomp"]
    for fn, es in edges.items():
        for (t, f, l, c) in es:
            if t == "seccomp_confine":
                arg = call_args(src_at(f, l, c))[0]
                sites.append((ROLE_OF.get(arg, arg), fn, l))
    for role in sorted({r for (r, fn, l) in sites}):
        for l in installed:
            sites.append((role, "seccomp_confine", l))
    return sites


def allowlists():
    """Rows of vmm/seccomp.c's tables: role -> syscalls, role -> ioctls,
    as each role's program allows them (thread_rows: the vCPU program also
    allows the I/O and serial threads' rows, which it starts)."""
    s = open("vmm/seccomp.c").read()
    sys_rows = re.findall(r"\{SYS_(\w+),\s*([VISE| ALL]+)\}", s)
    io_rows = re.findall(r"IOCTL\((\w+),\s*([VISE| ALL]+)\)", s)

    def roles(flags):
        f = flags.replace(" ", "").split("|")
        if "ALL" in f:
            return set(BITS.values())
        return {BITS[x] for x in f}

    def program(rows):
        out = {r: set() for r in BITS.values()}
        for name, flags in rows:
            for r in roles(flags):
                out[r].add(name)
        own = {r: set(v) for r, v in out.items()}
        out["vcpu"] |= out["io"] | out["serial"]
        return out, own

    return program(sys_rows), program(io_rows)


def derive(role, entries, defined, edges, taken, thread_fns, before=False):
    """What role's code reaches: (syscalls, ioctls, problems), each call
    with the path that reaches it.  entries: (function, line of its
    seccomp_confine call); the code after that call, or with before, the
    code up to and with it."""
    need, ioctls, problems = {}, {}, []
    seen = {}
    todo = []
    for fn, at in entries:
        for (t, f, l, c) in edges.get(fn, []):
            if (l <= at) if before else (l > at):
                todo.append((t, f, l, c, fn + (" (before confining)" if before else "")))
    if not before:
        todo.append(("vmm/seccomp.c:on_sigsys", "vmm/seccomp.c", 0, 0, "SIGSYS"))
    if role == "vcpu" and not before:
        # main() returns into exit(), which runs the atexit handlers; and
        # the vCPU thread is the one that takes signals (the others start
        # with every signal blocked but SIGSYS): every handler runs on it
        for h in EXIT_HANDLERS:
            todo.append((h, "", 0, 0, "main returns -> exit -> (atexit) " + h))
        for h in sorted(taken):
            if FSIG.get(h) in SIGNAL_HANDLER_TYPES:
                todo.append((h, "", 0, 0, "signal -> " + h))
    while todo:
        t, f, l, c, path = todo.pop()
        where = "%s:%d" % (f, l)
        if t == "__indirect_call":
            want = SITES.get((f, l, c))
            if want is None:
                problems.append("%s: an indirect call at %s whose pointer type the GIMPLE dump "
                                "does not give" % (path, where))
                continue
            for x in sorted(taken - thread_fns - set(SETUP_POINTERS)):
                if FSIG.get(x) == want:
                    todo.append((x, f, l, c, path + " -> (indirect) " + x))
            continue
        if t in defined:
            if t in seen:
                continue
            seen[t] = path
            for (t2, f2, l2, c2) in edges.get(t, []):
                todo.append((t2, f2, l2, c2, path + " -> " + t2))
            continue
        # not ours: the C library
        if t in PURE:
            continue
        if t in SETUP_ONLY:
            need.setdefault(t, path)
            continue
        if t not in LIBC:
            problems.append("%s: %s is not in the C library table: add what musl calls in it"
                            % (path, t))
            continue
        for sc in LIBC[t]:
            need.setdefault(sc, path)
        if t in STREAM_ARG:
            a = STREAM_ARG[t]
            text = src_at(f, l, c)
            args = call_args(text) if text.startswith(t + " (") or text.startswith(t + "(") else []
            stream = "stdout" if a is None else args[a] if len(args) > a else text.split("\n")[0]
            if stream != "stderr":
                need.setdefault("ioctl", path)
                ioctls.setdefault("TIOCGWINSZ", path + " (%s may be stdout)" % stream)
        if t == "exit":
            for h in EXIT_HANDLERS:
                todo.append((h, f, l, c, path + " -> (atexit) " + h))
        if t == "ioctl":
            req = call_args(src_at(f, l, c))[1]
            if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", req):
                problems.append("%s: ioctl at %s with request '%s', not a constant"
                                % (path, where, req))
            else:
                ioctls.setdefault(req, path)
        if t == "syscall":
            nr = call_args(src_at(f, l, c))[0]
            m = re.fullmatch(r"SYS_(\w+)", nr)
            if not m:
                problems.append("%s: syscall at %s with number '%s'" % (path, where, nr))
            else:
                need.setdefault(m.group(1), path)
    return need, ioctls, problems


def main():
    global FSIG, SITES
    cis, defined, edges = load_graph()
    if not cis:
        print("1..0 # SKIP no call graph in %s/callgraph (make callgraph)" % BUILD)
        return 0
    taken = address_taken(defined)
    FSIG, SITES = gimple_types(defined)
    sites = confine_sites(edges)
    thread_fns = {fn for (role, fn, l) in sites if role != "vcpu" and fn != "seccomp_confine"}
    (allow_sys, own_sys), (allow_io, own_io) = allowlists()
    print("# %d call graphs, %d functions, %d address-taken, %d indirect call sites typed; "
          "confined at: %s" % (len(cis), len(defined), len(taken), len(SITES),
                               ", ".join("%s in %s" % (r, fn) for (r, fn, l) in sorted(sites))))
    for fn, (ptr, path) in sorted(SETUP_POINTERS.items()):
        name = fn.split(":")[-1]
        lines = open(path).read().split("\n")
        clear = [i for i, ln in enumerate(lines) if re.match(r"\s*%s = NULL;" % ptr, ln)]
        later = [i for i, ln in enumerate(lines)
                 if re.search(r"seccomp_confine\(SECCOMP_VCPU\)|vcpu_threads_start\(", ln)]
        uses = []
        for src in glob.glob("vmm/*.c") + glob.glob("devices/*.c"):
            for ln in open(src):
                if re.search(r"\b%s\b" % name, ln) and not re.match(
                        r"\s*(static )?(void|int) %s\(" % name, ln) and not re.search(
                        r"\b%s = %s;" % (ptr, name), ln):
                    uses.append(src + ": " + ln.strip())
        tap(clear and later and max(clear) < min(later) and not uses,
            "%s is reached only through %s, which %s clears before any thread confines itself"
            % (fn, ptr, path), uses)
    untyped = sorted(t for t in taken if t not in FSIG)
    tap(not untyped, "every address-taken function has a type",
        ["no type for " + " ".join(untyped)] if untyped else [])
    derived = {}
    for role in ["io", "serial", "events", "vcpu"]:
        entries = [(fn, l) for (r, fn, l) in sites if r == role]
        tap(bool(entries), "%s: a thread confines itself with this role" % role)
        if not entries:
            continue
        need, ioctls, problems = derive(role, entries, defined, edges, taken, thread_fns)
        if role == "vcpu":
            # the threads it starts run under its program until they
            # confine themselves
            for r in LAZY:
                e2 = [(fn, l) for (r2, fn, l) in sites if r2 == r and fn != "seccomp_confine"]
                n2, i2, p2 = derive(r, e2, defined, edges, taken, thread_fns, before=True)
                for k, v in n2.items():
                    need.setdefault(k, v)
                for k, v in i2.items():
                    ioctls.setdefault(k, v)
                problems += p2
        derived[role] = (need, ioctls)
        tap(not problems, "%s: every call its code reaches is accounted for" % role, problems)
        missing = sorted(set(need) - allow_sys[role])
        tap(not missing, "%s: every system call its code can make is allowed (%d derived: %s)"
            % (role, len(need), " ".join(sorted(need))), ["%s: %s" % (m, need[m]) for m in missing])
        missing = sorted(set(ioctls) - allow_io[role])
        tap(not missing, "%s: every ioctl request its code can issue is allowed (%d derived)"
            % (role, len(ioctls)), ["%s: %s" % (m, ioctls[m]) for m in missing])
        # Its own rows (the vCPU program adds the I/O and serial rows,
        # which the threads it starts confine further) hold nothing else.
        want = set(need) | set(IMPLICIT["all"]) | set(IMPLICIT.get(role, {}))
        want_io = set(ioctls)
        extra = sorted(own_sys[role] - want)
        tap(not extra, "%s: nothing else is allowed (%d system calls of its own)"
            % (role, len(own_sys[role])),
            ["allowed, but no code of this role reaches it: " + " ".join(extra)] if extra else [])
        extra = sorted(own_io[role] - want_io)
        tap(not extra, "%s: no other ioctl request is allowed (%d of its own)"
            % (role, len(own_io[role])),
            ["allowed, but no code of this role issues it: " + " ".join(extra)] if extra else [])
    print("1..%d" % n)
    return 1 if failed else 0


sys.exit(main())
