// statement.cpp: prepared statements and transactions over sqlite3.
#include "db/statement.hpp"

#include "db/damage.hpp"

namespace vpo::db {

statement::statement(connection& c, const std::string& sql) : db_(c.handle()) {
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    note_result(db_, rc);
    error_ = std::string("cannot prepare statement: ") + sqlite3_errmsg(db_);
  }
}

statement::~statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

statement& statement::operator=(statement&& o) noexcept {
  if (this != &o) {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = o.stmt_;
    db_ = o.db_;
    error_ = std::move(o.error_);
    o.stmt_ = nullptr;
  }
  return *this;
}

statement& statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  return *this;
}

statement& statement::bind(int index, const std::string& value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

statement& statement::bind_static(int index, const std::string& value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
  return *this;
}

statement& statement::bind(int index, long long value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

statement& statement::bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

statement& statement::bind(int index, const std::optional<std::string>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

statement& statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

int statement::step() {
  if (!stmt_) return SQLITE_MISUSE;
  int rc = sqlite3_step(stmt_);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) note_result(db_, rc);  // damage reaches the probe
  return rc;
}

status statement::failure(int rc, const std::string& what) const {
  return sqlite_error(rc, 0, what + ": " + (stmt_ ? sqlite3_errmsg(db_) : error_));
}

status statement::run(const std::string& what) {
  int rc;
  while ((rc = step()) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return failure(rc, what);
  return {};
}

std::string statement::column_text(int i) const {
  auto p = sqlite3_column_text(stmt_, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)))
           : std::string();
}

std::optional<std::string> statement::column_optional_text(int i) const {
  if (column_is_null(i)) return std::nullopt;
  return column_text(i);
}

transaction::transaction(connection& c) : c_(c), begin_(c.exec("BEGIN IMMEDIATE")) {
  done_ = !begin_.ok();
}

transaction::~transaction() {
  if (!done_) c_.exec("ROLLBACK");
}

status transaction::commit() {
  if (done_) return begin_.ok() ? status{} : begin_;
  status s = c_.exec("COMMIT");
  done_ = s.ok();
  return s;
}

}  // namespace vpo::db
