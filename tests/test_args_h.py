"""args.h, the argument parser every lab hands out, case by case (the labs' [args] tests only
show that main() calls it first)."""

from __future__ import annotations

import subprocess

import pytest

from conftest import KIT

DRIVER = r"""
#include "args.h"
int main(int argc, char **argv)
{
    /* argv[1] says which parser (n: lab 07's client, whose HOST is a name); from argv[2]
       on, the program's own command line */
    int file = argv[1][1] == 'f';
    int named = argv[1][0] == 'n';
    struct program_args args = named ? parse_named_client_args(argc - 2, argv + 2)
        : argv[1][0] == 's'
        ? parse_server_args(argc - 2, argv + 2, file ? "default.out" : NULL)
        : parse_client_args(argc - 2, argv + 2, file ? "default.in" : NULL);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &args.host, host, sizeof host);
    printf("%s %u %s\n", named ? args.host_name : host, (unsigned)args.port,
           args.path ? args.path : "-");
    return 0;
}
"""


@pytest.fixture(scope="module")
def parse(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("args")
    (folder / "driver.c").write_text(DRIVER)
    subprocess.run(["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I",
                    str(KIT / "solutions" / "01-tcp-hello"), "-o", str(folder / "driver"),
                    str(folder / "driver.c")], check=True, timeout=60)

    def run(which: str, *args: str) -> tuple[int, str, str]:
        done = subprocess.run([str(folder / "driver"), which, "prog", *args],
                              capture_output=True, text=True, timeout=10)
        return done.returncode, done.stdout.strip(), done.stderr
    return run


@pytest.mark.parametrize("which, args, parsed", [
    ("s", [], "0.0.0.0 8080 -"),
    ("s", ["1"], "0.0.0.0 1 -"),
    ("s", ["65535"], "0.0.0.0 65535 -"),
    ("s", ["0080"], "0.0.0.0 80 -"),
    ("sf", [], "0.0.0.0 8080 default.out"),
    ("sf", ["9000", "x.bin"], "0.0.0.0 9000 x.bin"),
    ("c", [], "127.0.0.1 8080 -"),
    ("c", ["10.1.2.3", "22"], "10.1.2.3 22 -"),
    ("cf", ["127.0.0.2"], "127.0.0.2 8080 default.in"),
    ("cf", ["127.0.0.1", "9", "in.bin"], "127.0.0.1 9 in.bin"),
    ("n", [], "127.0.0.1 8080 -"),
    ("n", ["localhost"], "localhost 8080 -"),
    ("n", ["::1", "9000"], "::1 9000 -"),
    ("n", ["no-such-host.invalid", "1"], "no-such-host.invalid 1 -"),
])
def test_good_arguments_are_parsed(parse, which: str, args: list[str],  # type: ignore[no-untyped-def]
                                   parsed: str) -> None:
    assert parse(which, *args)[:2] == (0, parsed)


@pytest.mark.parametrize("which, args", [
    ("s", ["0"]), ("s", ["65536"]), ("s", ["-1"]), ("s", ["+80"]), ("s", [" 80"]),
    ("s", ["80x"]), ("s", ["abc"]), ("s", [""]), ("s", ["99999999999999999999"]),
    ("s", ["8080", "extra"]), ("sf", ["8080", "out", "extra"]),
    ("c", ["localhost"]), ("c", ["256.1.1.1"]), ("c", ["1.2.3"]), ("c", [""]),
    ("c", ["127.0.0.1", "0"]), ("c", ["127.0.0.1", "http"]),
    ("c", ["127.0.0.1", "80", "extra"]), ("cf", ["127.0.0.1", "80", "in", "extra"]),
    ("n", ["localhost", "0"]), ("n", ["::1", "65536"]), ("n", ["localhost", "http"]),
    ("n", ["localhost", "80", "extra"]),
])
def test_bad_arguments_print_one_usage_line_and_exit_2(parse, which: str,  # type: ignore[no-untyped-def]
                                                       args: list[str]) -> None:
    code, out, err = parse(which, *args)
    assert code == 2 and out == ""
    assert err.startswith("usage: prog [") and err.count("\n") == 1
