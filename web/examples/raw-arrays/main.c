#include "say.h"

int main(void)
{
	say("main\n");
	return 0;
}
