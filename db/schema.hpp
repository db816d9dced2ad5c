// schema.hpp: the library database's versioned schema and its migrations.
#pragma once

#include "db/connection.hpp"

namespace vpo::db {

/// The schema version this build writes and expects.
int current_schema_version();

/// Brings the schema to current_schema_version() in one IMMEDIATE transaction: creates it in an
/// empty database, applies each missing migration in order, refuses a newer version.
status migrate(connection& c);

/// Reads the stored version (0 when the database has no vpo schema yet).
status read_schema_version(connection& c, long long& version);

}  // namespace vpo::db
