/* A submission that does not compile: the grader must say so and go on with the class. */
#include <stdio.h>

int main(void)
{
    printf("Message from client: %s\n", message)   /* undeclared, and no ';' */
    return 0;
}
