// charta-server: a thin main over the charta_server library.

#include "charta/server/server.h"

int main(int argc, char** argv) { return charta::server::runCommandLine(argc, argv); }
