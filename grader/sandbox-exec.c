/* sandbox-exec — runs one untrusted program (a student's server or client, or the compiler on a
 * student's sources) in socklab's sandbox. grader/sandbox.py builds it (build/sandbox/KEY/) and
 * writes its options; Bats puts the result before every program through SOCKLAB_WRAP. Read
 * grader/sandbox.py's header first.
 *
 *   sandbox-exec [OPTIONS] -- PROGRAM [ARG...]
 *
 *   --lang en|ko        the language of its own error messages (the grader's: grader/i18n.py);
 *   --locale DIR        and where its catalog is (the kit's build/locale). First, so that an
 *                       error in the options after them speaks it too
 *   --build-dir DIR     where the harness keeps compiled programs: an argument that is a file in
 *                       DIR/<build>/ makes that one build folder visible, read-only
 *   --scratch-root DIR  the run's private temporary folder: the working folder, when inside it,
 *                       becomes the program's one writable place (owned by --uid)
 *   --protect DIR       never writable, even inside the scratch root (the tree under test)
 *   --uid N --gid N     as root: the unprivileged identity the program runs as
 *   --cpu S --as B --nproc N --fsize B --nofile N
 *                       resource limits (setrlimit(2)): CPU seconds, bytes of address space,
 *                       processes of the user, bytes of one file, descriptors. No core files.
 *                       --as is left out for sanitizer builds, whose shadow memory needs
 *                       terabytes of address space: AddressSanitizer's own resident-size limit
 *                       replaces it
 *   --no-bwrap          bubblewrap is missing: limits and identity only, no private mount view
 *
 *   sandbox-exec --drop UID GID FD -- PROGRAM [ARG...]
 *                       the last step, run by bubblewrap inside the mount view (see below)
 *
 * The environment may add folders for one command (the build uses them; programs never can,
 * since this runs before them): SOCKLAB_SANDBOX_RO, SOCKLAB_SANDBOX_RW (colon-separated). And
 * SOCKLAB_SANDBOX_HIDE: files under /usr that the command cannot read (/dev/null is mounted
 * over each, where devices cannot be opened: EACCES). session.py hides the C library's
 * debugging file from Valgrind, which would spend ~0.1 s reading it (debuginfo.py).
 *
 * Order: the limits are set here (inherited by everything below), then bwrap (as root, so that
 * it can mount; private mount, PID, IPC and UTS namespaces, not the network one: the run's
 * outer sandbox has one that the harness shares), then this program again (--drop: to --uid,
 * no capabilities, no new privileges), then the program. The view holds no folder of ours:
 * bwrap runs this program again as /proc/self/fd/FD, a descriptor on its own file that it
 * passes on (the --drop step closes it before the program starts). Each execs the next:
 * nothing of ours stays between the harness and the program but bwrap's PID 1, which kills
 * everything in the program's namespace when the program ends or the harness kills its
 * process group.
 *
 * Why C: every program a test starts goes through here, ~210 a student of labs 01-06. The same
 * steps as a bash script that then ran setpriv(1) cost ~2 ms more CPU a program than this
 * does (bash's start and script, setpriv's start), and a chown(1) process for each new
 * scratch folder.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libintl.h>
#include <linux/capability.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

enum {
    EXIT_LAUNCHER = 125,       /* an error of the launcher itself (as env(1) and timeout(1)) */
    EXIT_CANNOT_RUN = 126,     /* the program exists but cannot be run (as a shell says) */
    EXIT_NOT_FOUND = 127,      /* no such program (as a shell says) */
    KIB = 1024,                /* setrlimit takes bytes; the shell's ulimit took KiB */
    MIB_SHIFT = 20,
    LIST_START = 16,           /* words a list holds before it first grows */
};

static const char DOMAIN[] = "socklab";
static const char *language = "en";
static const char *locale_dir = NULL;

/* The English message, or its translation in the grader's language (the kit's catalog, read
 * by the C library's gettext). Only failure paths call it: the program never sees LANGUAGE. */
static const char *translated(const char *english)
{
    if (strcmp(language, "ko") != 0 || locale_dir == NULL)
        return english;
    setenv("LANGUAGE", "ko", 1);
    setlocale(LC_ALL, "C.UTF-8");  /* gettext ignores LANGUAGE in the plain C locale */
    bindtextdomain(DOMAIN, locale_dir);
    return dgettext(DOMAIN, english);
}

/* die FORMAT [ARG...]: an error of the launcher (printf FORMAT, translated), exit 125. */
__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("sandbox-exec: ", stderr);
    vfprintf(stderr, translated(format), args);
    fputc('\n', stderr);
    va_end(args);
    exit(EXIT_LAUNCHER);
}

/* A system call that failed: what, and the system's reason (as perror says it), exit 125. */
__attribute__((noreturn))
static void die_errno(const char *what, const char *path)
{
    int error = errno;
    if (path != NULL)
        fprintf(stderr, "sandbox-exec: %s %s: %s\n", what, path, strerror(error));
    else
        fprintf(stderr, "sandbox-exec: %s: %s\n", what, strerror(error));
    exit(EXIT_LAUNCHER);
}

/* A growing list of strings (folders, bwrap's words), which it does not own. What is left
 * of the lists goes with the exec. */
struct list {
    const char **items;
    size_t count, allocated;
};

static void push(struct list *list, const char *item)
{
    if (list->count + 1 >= list->allocated) {   /* room for a NULL after the last (execvp) */
        size_t allocated = list->allocated ? list->allocated * 2 : LIST_START;
        const char **items = realloc(list->items, allocated * sizeof *items);
        if (items == NULL)
            die_errno("realloc", NULL);
        list->items = items;
        list->allocated = allocated;
    }
    list->items[list->count++] = item;
    list->items[list->count] = NULL;
}

static void push_all(struct list *list, const struct list *more)
{
    for (size_t i = 0; i < more->count; i++)
        push(list, more->items[i]);
}

static void push_words(struct list *list, const char *const words[], size_t count)
{
    for (size_t i = 0; i < count; i++)
        push(list, words[i]);
}

static bool contains(const struct list *list, const char *item)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i], item) == 0)
            return true;
    return false;
}

static char *copy(const char *text, size_t length)
{
    char *made = strndup(text, length);
    if (made == NULL)
        die_errno("strndup", NULL);
    return made;
}

/* The environment variable NAME's colon-separated folders (empty fields skipped), then
 * removed from the environment: the program never sees it. */
static struct list take_folders(const char *name)
{
    struct list folders = {0};
    const char *value = getenv(name);
    for (const char *field = value; field != NULL && *field != '\0';) {
        const char *end = strchrnul(field, ':');
        if (end > field)
            push(&folders, copy(field, (size_t)(end - field)));
        field = *end == ':' ? end + 1 : end;
    }
    if (unsetenv(name) != 0)
        die_errno("unsetenv", name);
    return folders;
}

/* PATH is DIR or below it (both absolute, without trailing slashes). */
static bool inside(const char *path, const char *dir)
{
    size_t length = strlen(dir);
    return strncmp(path, dir, length) == 0 && (path[length] == '\0' || path[length] == '/');
}

/* The folder holding PATH: "/a/b" -> "/a", "/a" -> "" (never "/" or ".", as dirname(1)). */
static char *parent_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return copy(path, slash ? (size_t)(slash - path) : 0);
}

static bool owned_by_me(const char *path)
{
    struct stat about;
    return stat(path, &about) == 0 && about.st_uid == geteuid();
}

/* chmod PATH to its mode plus BITS (a+rx, o+x), following links as chmod(1) does. */
static void add_mode(const char *path, mode_t bits)
{
    struct stat about;
    if (stat(path, &about) != 0)
        die_errno("stat", path);
    if (chmod(path, (about.st_mode & 07777) | bits) != 0)
        die_errno("chmod", path);
}

static unsigned long long number(const char *option, const char *text)
{
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
        die("option %s: '%s' is not a number", option, text);
    return value;
}

/* A limit for this process and all it starts: soft and hard alike, as the shell's ulimit. */
static void limit(int resource, rlim_t value, const char *what)
{
    struct rlimit both = {.rlim_cur = value, .rlim_max = value};
    if (setrlimit(resource, &both) != 0)
        die_errno("setrlimit", what);
}

/* As root, becomes UID/GID for good: no supplementary groups, no capabilities in any set
 * (the bounding set too, so that nothing it executes can regain one), no new privileges
 * (a set-user-ID program cannot lift it back). What setpriv --reuid --regid --clear-groups
 * --inh-caps=-all --bounding-set=-all --no-new-privs does. */
static void drop_to(uid_t uid, gid_t gid)
{
    /* CAP_SETPCAP, CAP_SETGID and CAP_SETUID are needed for these, so before setresuid. */
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
            die_errno("prctl", "PR_CAPBSET_DROP");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
        die_errno("prctl", "PR_CAP_AMBIENT_CLEAR_ALL");
    if (setgroups(0, NULL) != 0)
        die_errno("setgroups", NULL);
    if (setresgid(gid, gid, gid) != 0)
        die_errno("setresgid", NULL);
    if (setresuid(uid, uid, uid) != 0)
        die_errno("setresuid", NULL);
    /* setresuid cleared the permitted and effective sets; the inheritable set stays. */
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {{0}};
    if (syscall(SYS_capset, &header, none) != 0)
        die_errno("capset", NULL);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        die_errno("prctl", "PR_SET_NO_NEW_PRIVS");
}

/* Becomes PROGRAM (searched in PATH, as the shell's exec would). */
__attribute__((noreturn))
static void run(char *const argv[])
{
    execvp(argv[0], argv);
    int error = errno;
    fprintf(stderr, "sandbox-exec: %s: %s\n", argv[0], strerror(error));
    exit(error == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
}

static int drop_main(int argc, char **argv)
{
    /* sandbox-exec --drop UID GID FD -- PROGRAM [ARG...] */
    if (argc < 7 || strcmp(argv[5], "--") != 0)
        die("no program to run");
    int self = (int)number("--drop", argv[4]);
    if (close(self) != 0)             /* the descriptor bwrap ran this from: not the program's */
        die_errno("close", argv[4]);
    drop_to((uid_t)number("--drop", argv[2]), (gid_t)number("--drop", argv[3]));
    run(argv + 6);
}

struct options {
    const char *build_dir, *scratch_root;
    struct list protected;
    uid_t uid;
    gid_t gid;
    bool has_uid, has_gid, has_as, use_bwrap;
    unsigned long long as_bytes;
};

/* The options that take a value (all but --no-bwrap). */
static const char *const VALUE_OPTIONS[] = {
    "--lang", "--locale", "--build-dir", "--scratch-root", "--protect", "--uid", "--gid",
    "--cpu", "--as", "--nproc", "--fsize", "--nofile",
};

static bool takes_value(const char *option)
{
    for (size_t i = 0; i < sizeof VALUE_OPTIONS / sizeof *VALUE_OPTIONS; i++)
        if (strcmp(option, VALUE_OPTIONS[i]) == 0)
            return true;
    return false;
}

/* The options, up to "--"; returns the index of the program's name in argv. Limits are set
 * as they come: every process below inherits them. */
static int parse(int argc, char **argv, struct options *options)
{
    int i = 1;
    while (i < argc && strcmp(argv[i], "--") != 0) {
        const char *option = argv[i];
        if (strcmp(option, "--no-bwrap") == 0) {
            options->use_bwrap = false;
            i++;
            continue;
        }
        if (!takes_value(option))
            die("unknown option '%s'", option);
        if (i + 1 >= argc)
            die("option %s needs a value", option);
        const char *value = argv[i + 1];
        i += 2;
        if (strcmp(option, "--lang") == 0) {
            language = value;
        } else if (strcmp(option, "--locale") == 0) {
            locale_dir = value;
        } else if (strcmp(option, "--build-dir") == 0) {
            options->build_dir = value;
        } else if (strcmp(option, "--scratch-root") == 0) {
            options->scratch_root = value;
        } else if (strcmp(option, "--protect") == 0) {
            push(&options->protected, value);
        } else if (strcmp(option, "--uid") == 0) {
            options->uid = (uid_t)number(option, value);
            options->has_uid = true;
        } else if (strcmp(option, "--gid") == 0) {
            options->gid = (gid_t)number(option, value);
            options->has_gid = true;
        } else if (strcmp(option, "--cpu") == 0) {
            limit(RLIMIT_CPU, number(option, value), "RLIMIT_CPU");
        } else if (strcmp(option, "--nproc") == 0) {
            limit(RLIMIT_NPROC, number(option, value), "RLIMIT_NPROC");
        } else if (strcmp(option, "--fsize") == 0) {   /* whole KiB, as the shell's ulimit -f */
            limit(RLIMIT_FSIZE, number(option, value) / KIB * KIB, "RLIMIT_FSIZE");
        } else if (strcmp(option, "--nofile") == 0) {
            limit(RLIMIT_NOFILE, number(option, value), "RLIMIT_NOFILE");
        } else {                                        /* --as */
            options->as_bytes = number(option, value);
            options->has_as = true;
        }
    }
    if (i + 1 >= argc)
        die("no program to run");
    return i + 1;
}

/* A descriptor on this program's own file, for bwrap to run it again (--drop) inside a view
 * that does not hold it. Not closed on exec: bwrap passes it on to the program's process. */
static int own_file(void)
{
    int self = open("/proc/self/exe", O_PATH);
    if (self < 0)
        die_errno("open", "/proc/self/exe");
    return self;
}

/* Adds to VIEW the --dir of each folder leading to DIR that bwrap would otherwise create as
 * 0700 root (the user could not reach its own files): 0755, shallowest first, each once. */
static void add_parents(struct list *view, struct list *made, const char *dir)
{
    struct list parents = {0};
    for (char *parent = parent_of(dir); *parent != '\0' && !contains(made, parent);
         parent = parent_of(parent)) {
        push(made, parent);
        push(&parents, parent);
    }
    for (size_t i = parents.count; i-- > 0;) {
        const char *const words[] = {"--perms", "0755", "--dir", parents.items[i]};
        push_words(view, words, sizeof words / sizeof *words);
    }
    free(parents.items);
}

static bool same_file(const char *one, const char *other)
{
    struct stat a, b;
    return stat(one, &a) == 0 && stat(other, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

/* No core files; the address-space limit, or for a sanitizer build (the harness sets
 * ASAN_OPTIONS for those), which reserves its shadow memory as address space,
 * AddressSanitizer's resident-size watch instead. */
static void set_memory_limits(const struct options *options)
{
    limit(RLIMIT_CORE, 0, "RLIMIT_CORE");
    const char *asan = getenv("ASAN_OPTIONS");
    if (asan != NULL && *asan != '\0') {
        if (options->has_as) {
            char *with_limit;
            if (asprintf(&with_limit, "%s:hard_rss_limit_mb=%llu", asan,
                         options->as_bytes >> MIB_SHIFT) < 0)
                die_errno("asprintf", NULL);
            if (setenv("ASAN_OPTIONS", with_limit, 1) != 0)
                die_errno("setenv", "ASAN_OPTIONS");
        }
    } else if (options->has_as) {
        limit(RLIMIT_AS, options->as_bytes / KIB * KIB, "RLIMIT_AS");
    }
}

/* What one program may see and write. */
struct folders {
    const char *build_dir, *scratch_root;   /* "" when not given */
    char *cwd;                              /* the physical path: the kernel's */
    struct list readable, writable, hidden;
};

static struct folders choose_folders(const struct options *options, char **program)
{
    struct folders chosen = {
        .build_dir = options->build_dir ? options->build_dir : "",
        .scratch_root = options->scratch_root ? options->scratch_root : "",
        .cwd = getcwd(NULL, 0),
    };
    if (chosen.cwd == NULL)
        die_errno("getcwd", NULL);
    /* The one writable place: the working folder when it is a test's scratch folder, plus
     * what the build asked for. Nothing else the program can see is writable by its user. */
    struct list asked_writable = take_folders("SOCKLAB_SANDBOX_RW");
    chosen.readable = take_folders("SOCKLAB_SANDBOX_RO");
    chosen.hidden = take_folders("SOCKLAB_SANDBOX_HIDE");
    bool scratch = *chosen.scratch_root != '\0' && inside(chosen.cwd, chosen.scratch_root) &&
                   strcmp(chosen.cwd, chosen.scratch_root) != 0;
    struct list kept = {0};            /* folders the scratch folder must not be, nor hold */
    push(&kept, chosen.build_dir);
    push_all(&kept, &options->protected);
    push_all(&kept, &chosen.readable);
    for (size_t i = 0; scratch && i < kept.count; i++) {
        const char *dir = kept.items[i];
        if (*dir != '\0' && (inside(chosen.cwd, dir) || inside(dir, chosen.cwd)))
            scratch = false;
    }
    free(kept.items);
    if (scratch)
        push(&chosen.writable, chosen.cwd);
    push_all(&chosen.writable, &asked_writable);
    free(asked_writable.items);

    /* A program of the harness's build cache: its own build folder only, never the whole
     * cache (it holds the reference's programs and other students' builds). */
    if (*chosen.build_dir != '\0') {
        for (char **arg = program; *arg != NULL; arg++) {
            struct stat about;
            if ((*arg)[0] == '/' && stat(*arg, &about) == 0 && S_ISREG(about.st_mode) &&
                inside(*arg, chosen.build_dir)) {
                char *folder = parent_of(*arg);
                if (*folder != '\0')
                    push(&chosen.readable, folder);
            }
        }
    }
    return chosen;
}

/* As root, before the switch: the writable folders become the user's, and the folders to
 * read open to it. */
static void give_to_user(const struct folders *folders, uid_t uid, gid_t gid)
{
    for (size_t i = 0; i < folders->writable.count; i++) {   /* not yet given to the user */
        const char *dir = folders->writable.items[i];
        if (owned_by_me(dir) && chown(dir, uid, gid) != 0)
            die_errno("chown", dir);
    }
    /* A folder to read may be 0700 (mktemp -d, an unpacked archive): opened to the user here.
     * Not a build folder: the harness makes those 0755 (labs/lib/socklab.bash: build_tmp),
     * which saves a chmod before each program. */
    for (size_t i = 0; i < folders->readable.count; i++) {
        const char *dir = folders->readable.items[i];
        if (*folders->build_dir == '\0' || !inside(dir, folders->build_dir))
            add_mode(dir, S_IRUSR | S_IXUSR | S_IRGRP | S_IXGRP | S_IROTH | S_IXOTH);
    }
}

/* No mount view (e.g. a container without the rights to make namespaces): the program sees
 * the real folders, so the ones leading to its build and scratch folders must let its user
 * through (mktemp -d made them 0700). Only temporary folders: those inside the build cache or
 * the scratch root, never the kit's or your home's. Search permission only, no listing. */
static void open_the_way(const struct folders *folders)
{
    struct list both = {0};
    push_all(&both, &folders->readable);
    push_all(&both, &folders->writable);
    for (size_t i = 0; i < both.count; i++) {
        for (char *parent = parent_of(both.items[i]); *parent != '\0';
             parent = parent_of(parent)) {
            bool temporary = (*folders->build_dir != '\0' &&
                              inside(parent, folders->build_dir)) ||
                             (*folders->scratch_root != '\0' &&
                              strcmp(parent, folders->scratch_root) != 0 &&
                              inside(parent, folders->scratch_root));
            if (temporary && owned_by_me(parent))
                add_mode(parent, S_IXOTH);
        }
    }
    free(both.items);
}

/* bwrap's options for the program's mount view: the system read-only, its folders, and the
 * folder it starts in. */
static void add_view(struct list *command, const struct folders *folders)
{
    const char *const system_view[] = {"--ro-bind", "/usr", "/usr", "--ro-bind", "/etc",
                                       "/etc", "--proc", "/proc", "--dev", "/dev"};
    push_words(command, system_view, sizeof system_view / sizeof *system_view);
    /* /bin, /lib... as the machine has them: where /usr is merged (Debian since 12), the same
     * links into /usr in the view (a bind mount costs ~0.1 ms of CPU, for every program: four
     * or five of them), and where it is not, folders of their own, bound read-only. */
    const char *const tops[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};
    for (size_t i = 0; i < sizeof tops / sizeof *tops; i++) {
        char *in_usr, *target;
        if (asprintf(&in_usr, "/usr%s", tops[i]) < 0 || asprintf(&target, "usr%s", tops[i]) < 0)
            die_errno("asprintf", NULL);
        struct stat link, any;
        if (lstat(tops[i], &link) == 0 && S_ISLNK(link.st_mode) && same_file(tops[i], in_usr)) {
            const char *const words[] = {"--symlink", target, tops[i]};
            push_words(command, words, sizeof words / sizeof *words);
        } else if (stat(tops[i], &any) == 0) {
            const char *const words[] = {"--ro-bind", tops[i], tops[i]};
            push_words(command, words, sizeof words / sizeof *words);
        }
    }
    for (size_t i = 0; i < folders->hidden.count; i++) {
        const char *file = folders->hidden.items[i];
        struct stat about;
        if (strncmp(file, "/usr/", strlen("/usr/")) == 0 && stat(file, &about) == 0 &&
            S_ISREG(about.st_mode)) {
            const char *const words[] = {"--ro-bind", "/dev/null", file};
            push_words(command, words, sizeof words / sizeof *words);
        }
    }
    struct list made = {0};
    for (size_t i = 0; i < folders->readable.count; i++)
        add_parents(command, &made, folders->readable.items[i]);
    for (size_t i = 0; i < folders->writable.count; i++)
        add_parents(command, &made, folders->writable.items[i]);
    free(made.items);
    for (size_t i = 0; i < folders->readable.count; i++) {
        const char *dir = folders->readable.items[i];
        const char *const words[] = {"--ro-bind", dir, dir};
        push_words(command, words, sizeof words / sizeof *words);
    }
    for (size_t i = 0; i < folders->writable.count; i++) {
        const char *dir = folders->writable.items[i];
        const char *const words[] = {"--bind", dir, dir};
        push_words(command, words, sizeof words / sizeof *words);
    }
    bool shown = contains(&folders->writable, folders->cwd) ||
                 contains(&folders->readable, folders->cwd);
    push(command, "--chdir");
    push(command, shown ? folders->cwd : "/");
}

/* The --drop step's words, for bwrap to run before the program (see the header). */
static void add_drop(struct list *command, uid_t uid, gid_t gid)
{
    int self = own_file();
    char *path, *uid_text, *gid_text, *self_text;
    if (asprintf(&path, "/proc/self/fd/%d", self) < 0 ||
        asprintf(&uid_text, "%llu", (unsigned long long)uid) < 0 ||
        asprintf(&gid_text, "%llu", (unsigned long long)gid) < 0 ||
        asprintf(&self_text, "%d", self) < 0)
        die_errno("asprintf", NULL);
    const char *const words[] = {path, "--drop", uid_text, gid_text, self_text, "--"};
    push_words(command, words, sizeof words / sizeof *words);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--drop") == 0)
        return drop_main(argc, argv);

    struct options options = {.use_bwrap = true};
    char **program = argv + parse(argc, argv, &options);
    set_memory_limits(&options);
    bool identity = options.has_uid && geteuid() == 0;
    gid_t gid = options.has_gid ? options.gid : (gid_t)options.uid;
    struct folders folders = choose_folders(&options, program);
    if (identity)
        give_to_user(&folders, options.uid, gid);
    if (folders.writable.count > 0 && setenv("TMPDIR", folders.writable.items[0], 1) != 0)
        die_errno("setenv", "TMPDIR");   /* compilers write temporary files there */

    if (!options.use_bwrap) {
        if (identity) {
            open_the_way(&folders);
            drop_to(options.uid, gid);
        }
        run(program);
    }
    struct list command = {0};
    const char *const namespaces[] = {"bwrap", "--unshare-pid", "--unshare-ipc",
                                      "--unshare-uts", "--unshare-cgroup-try",
                                      "--die-with-parent", "--new-session"};
    push_words(&command, namespaces, sizeof namespaces / sizeof *namespaces);
    add_view(&command, &folders);
    push(&command, "--");
    if (identity)
        add_drop(&command, options.uid, gid);
    for (char **arg = program; *arg != NULL; arg++)
        push(&command, *arg);
    execvp("bwrap", (char *const *)command.items);
    die_errno("execvp", "bwrap");
}
