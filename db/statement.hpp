// statement.hpp: a prepared SQLite statement (RAII) with typed binds and column reads.
#pragma once

#include <sqlite3.h>

#include <optional>
#include <string>
#include <string_view>

#include "db/connection.hpp"

namespace vpo::db {

/// Prepared once, reset and re-bound for each use. Owned by the actor that owns the connection.
class statement {
 public:
  statement() = default;
  statement(connection& c, const std::string& sql);
  ~statement();
  statement(statement&& o) noexcept : stmt_(o.stmt_), db_(o.db_), error_(std::move(o.error_)) {
    o.stmt_ = nullptr;
  }
  statement& operator=(statement&& o) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  /// Preparation error (empty when prepared).
  const std::string& error() const { return error_; }

  statement& reset();
  statement& bind(int index, const std::string& value);
  /// Binds without copying: `value` must stay unchanged until the statement is reset.
  statement& bind_static(int index, const std::string& value);
  statement& bind(int index, long long value);
  statement& bind(int index, double value);
  statement& bind(int index, const std::optional<std::string>& value);
  statement& bind_null(int index);

  /// Steps once: SQLITE_ROW, SQLITE_DONE, or an error code (then `failure()` describes it).
  int step();
  status failure(int rc, const std::string& what) const;
  /// Steps to completion, expecting no rows.
  status run(const std::string& what);

  long long column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  double column_double(int i) const { return sqlite3_column_double(stmt_, i); }
  std::string column_text(int i) const;
  std::optional<std::string> column_optional_text(int i) const;
  /// The column's text without a copy: valid until the next step() or reset().
  std::string_view column_view(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)))
             : std::string_view();
  }
  bool column_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  std::string error_;
};

/// A statement prepared at its first reset(): a connection pays only for the statements it runs
/// (the API's reader runs a third of the job store's). A failed preparation (a busy schema, a
/// mismatched one) is tried again at the next reset(); until then the statement's step() fails
/// with the preparation's error.
class lazy_statement {
 public:
  lazy_statement(connection& c, std::string sql) : c_(&c), sql_(std::move(sql)) {}
  statement& reset() {
    prepare();
    return s_.reset();
  }
  /// Prepares now (if not yet): the preparation error, empty when prepared.
  const std::string& prepare() {
    if (!prepared_) {
      s_ = statement(*c_, sql_);
      prepared_ = s_.error().empty();
    }
    return s_.error();
  }

 private:
  connection* c_;
  std::string sql_;
  statement s_;
  bool prepared_ = false;
};

/// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() succeeded.
class transaction {
 public:
  explicit transaction(connection& c);
  ~transaction();
  const status& begin_status() const { return begin_; }
  status commit();

 private:
  connection& c_;
  status begin_;
  bool done_ = false;
};

}  // namespace vpo::db
