/*
 * Hostile submission: the reference server, by #include. tests/test_hostile.py replaces
 * SOCKLAB_REF_PATH below with the reference folder of the kit under test before grading:
 * without a sandbox around the compiler, this submission would earn the reference's marks.
 */
#include "SOCKLAB_REF_PATH/server.c"
