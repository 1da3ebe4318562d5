/*
 * rootpath.h — opening a name a stranger sent, without ever leaving ROOT.
 *
 * A TFTP request carries a file name chosen by whoever sent the datagram: "../../etc/passwd",
 * "/etc/shadow", or "pub/link" where pub/link is a symbolic link to /. Gluing ROOT and the
 * name into one path and calling open() lets the kernel follow every ".." and every link,
 * wherever it leads. Checking the glued path first (realpath(3), then a prefix test) leaves a
 * gap between the check and the open in which a link can change.
 *
 * So the name is never handed to the kernel whole. It is split into its components, each
 * checked, and the folders are walked one at a time with openat(2), each relative to the
 * previous one's descriptor, with O_NOFOLLOW: a symbolic link is refused where it stands,
 * inside or outside ROOT, and ".." never gets to the kernel at all. What is opened is what
 * was checked.
 *
 * The rule, then: NAME is a relative path whose components are separated by single '/', none
 * of them empty, "." or "..", none a symbolic link; at most ROOTPATH_NAME_MAX bytes. Any
 * other name is refused (TFTP error 2, access violation).
 */
#ifndef SOCKLAB_ROOTPATH_H
#define SOCKLAB_ROOTPATH_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOTPATH_NAME_MAX (PATH_MAX - 1)   /* bytes of a whole name (PATH_MAX counts the NUL) */
#define ROOTPATH_PART_MAX NAME_MAX         /* bytes of one component (255 on Linux) */

/* Why a name cannot be opened; the caller turns these into TFTP error codes. */
enum rootpath_result {
    ROOTPATH_OK = 0,
    ROOTPATH_REFUSED,     /* the name breaks the rule above: error 2 */
    ROOTPATH_NOT_FOUND,   /* a folder on the way, or the file, does not exist: error 1 */
    ROOTPATH_DENIED,      /* the system said no (permissions): error 2 */
    ROOTPATH_EXISTS,      /* a write request for a name already taken: error 6 */
    ROOTPATH_FAILED,      /* anything else; errno says what */
};

/* Does `name` follow the rule? Checks only the text, never the disk. */
static inline int rootpath_name_ok(const char *name, size_t len)
{
    const char *part = name;

    if (len == 0 || len > ROOTPATH_NAME_MAX || name[0] == '/')
        return 0;
    for (;;) {
        const char *slash = memchr(part, '/', len - (size_t)(part - name));
        size_t part_len = slash ? (size_t)(slash - part) : len - (size_t)(part - name);

        if (part_len == 0 || part_len > ROOTPATH_PART_MAX)
            return 0;   /* "a//b", "a/" or a component too long for any file system */
        if ((part_len == 1 && part[0] == '.') ||
            (part_len == 2 && part[0] == '.' && part[1] == '.'))
            return 0;
        if (slash == NULL)
            return 1;
        part = slash + 1;
    }
}

static inline enum rootpath_result rootpath_from_errno(int error)
{
    switch (error) {
    case ENOENT:
    case ENOTDIR:    /* a component that should be a folder is a file */
        return ROOTPATH_NOT_FOUND;
    case ELOOP:      /* O_NOFOLLOW met a symbolic link */
    case EACCES:
    case EPERM:
        return ROOTPATH_DENIED;
    default:
        return ROOTPATH_FAILED;
    }
}

/*
 * Walks `name` (which rootpath_name_ok() accepted) from the folder `root_fd` down to the
 * folder that holds its last component. Stores a new descriptor of that folder in *dir_fd
 * (the caller closes it) and a pointer to the last component, inside `name`, in *base.
 * `name` must be NUL-terminated.
 */
static inline enum rootpath_result rootpath_parent(int root_fd, const char *name, int *dir_fd,
                                                   const char **base)
{
    char part[ROOTPATH_PART_MAX + 1];
    const char *at = name;
    int dir = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (dir < 0)
        return rootpath_from_errno(errno);   /* errno is still set for the caller */
    for (;;) {
        const char *slash = strchr(at, '/');
        int next;

        if (slash == NULL)
            break;
        memcpy(part, at, (size_t)(slash - at));
        part[slash - at] = '\0';
        /* O_DIRECTORY: it must be a folder; O_NOFOLLOW: not a link to one (ELOOP). */
        next = openat(dir, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            int error = errno;
            struct stat info;
            /* With O_DIRECTORY, a link to a folder fails with ENOTDIR, as a file would:
             * lstat tells them apart, and a link is refused, not "not found". */
            if (error == ENOTDIR && fstatat(dir, part, &info, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(info.st_mode))
                error = ELOOP;
            close(dir);
            errno = error;
            return rootpath_from_errno(error);
        }
        close(dir);
        dir = next;
        at = slash + 1;
    }
    *dir_fd = dir;
    *base = at;
    return ROOTPATH_OK;
}

/*
 * Opens `name` under `root_fd` for reading: a regular file, never a link, a folder, a device
 * or a FIFO (opening a FIFO would wait for a writer; O_NONBLOCK makes it return at once, and
 * fstat() then refuses it). Stores the descriptor in *fd.
 */
static inline enum rootpath_result rootpath_open_read(int root_fd, const char *name,
                                                      size_t len, int *fd)
{
    const char *base;
    int dir, file, error;
    struct stat info;
    enum rootpath_result result;

    if (!rootpath_name_ok(name, len))
        return ROOTPATH_REFUSED;
    result = rootpath_parent(root_fd, name, &dir, &base);
    if (result != ROOTPATH_OK)
        return result;
    file = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    error = errno;
    close(dir);
    if (file < 0) {
        errno = error;
        return rootpath_from_errno(error);
    }
    if (fstat(file, &info) < 0) {
        error = errno;
        close(file);
        errno = error;
        return ROOTPATH_FAILED;
    }
    if (!S_ISREG(info.st_mode)) {
        close(file);
        return ROOTPATH_REFUSED;
    }
    *fd = file;
    return ROOTPATH_OK;
}

/*
 * Gets ready to write `name` under `root_fd`: checks the rule, walks to its folder (stored
 * in *dir_fd, which the caller closes, with the last component in *base), and makes sure
 * nothing — file, folder or link — has that name yet. The data then goes to a temporary
 * file in the same folder, linked to `base` only once it is complete (see server.c).
 */
static inline enum rootpath_result rootpath_prepare_write(int root_fd, const char *name,
                                                          size_t len, int *dir_fd,
                                                          const char **base)
{
    struct stat info;
    enum rootpath_result result;

    if (!rootpath_name_ok(name, len))
        return ROOTPATH_REFUSED;
    result = rootpath_parent(root_fd, name, dir_fd, base);
    if (result != ROOTPATH_OK)
        return result;
    /* AT_SYMLINK_NOFOLLOW: the name itself, not what a link points to. A link is refused
     * like any link; anything else with that name is taken. */
    if (fstatat(*dir_fd, *base, &info, AT_SYMLINK_NOFOLLOW) == 0)
        result = S_ISLNK(info.st_mode) ? ROOTPATH_DENIED : ROOTPATH_EXISTS;
    else if (errno != ENOENT)
        result = rootpath_from_errno(errno);
    if (result != ROOTPATH_OK) {
        int error = errno;
        close(*dir_fd);
        errno = error;
    }
    return result;
}

#endif /* SOCKLAB_ROOTPATH_H */
