#include "secret_service.h"

#include <libsecret/secret.h>

#include <cstdlib>

namespace charta::platform {
namespace {

const SecretSchema* vaultSchema() {
  static const SecretSchema schema = {
      "org.charta.VaultKey",
      SECRET_SCHEMA_NONE,
      {
          {"key-id", SECRET_SCHEMA_ATTRIBUTE_STRING},
          {nullptr, SECRET_SCHEMA_ATTRIBUTE_STRING},
      },
      0, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  return &schema;
}

std::string takeMessage(GError* error) {
  std::string m = error && error->message ? error->message : "unknown error";
  if (error) g_error_free(error);
  return m;
}

class LibsecretService final : public SecretService {
 public:
  crdt::Status store(const std::string& keyId, const std::string& label, const std::string& secret) override {
    GError* error = nullptr;
    const gboolean ok = secret_password_store_sync(vaultSchema(), SECRET_COLLECTION_DEFAULT, label.c_str(),
                                                   secret.c_str(), nullptr, &error, "key-id", keyId.c_str(), nullptr);
    if (!ok || error) return crdt::Status::ioError("the desktop keyring refused the key: " + takeMessage(error));
    return crdt::Status::ok();
  }

  crdt::Result<std::optional<std::string>> lookup(const std::string& keyId) override {
    GError* error = nullptr;
    gchar* found = secret_password_lookup_sync(vaultSchema(), nullptr, &error, "key-id", keyId.c_str(), nullptr);
    if (error) return crdt::Status::ioError("the desktop keyring did not answer: " + takeMessage(error));
    if (!found) return std::optional<std::string>();
    std::string secret(found);
    secret_password_free(found);
    return std::optional<std::string>(std::move(secret));
  }

  crdt::Status remove(const std::string& keyId) override {
    GError* error = nullptr;
    secret_password_clear_sync(vaultSchema(), nullptr, &error, "key-id", keyId.c_str(), nullptr);
    if (error) return crdt::Status::ioError("the desktop keyring did not answer: " + takeMessage(error));
    return crdt::Status::ok();
  }
};

}  // namespace

std::unique_ptr<SecretService> SecretService::connect() {
  // No session bus: do not let D-Bus try to start one (autolaunch).
  const char* bus = std::getenv("DBUS_SESSION_BUS_ADDRESS");
  if (bus == nullptr || *bus == '\0') return nullptr;
  GError* error = nullptr;
  ::SecretService* service = secret_service_get_sync(SECRET_SERVICE_NONE, nullptr, &error);
  if (error || service == nullptr) {
    if (error) g_error_free(error);
    return nullptr;
  }
  // Someone must own the name: a bus without a keyring answers nothing.
  GDBusProxy* proxy = G_DBUS_PROXY(service);
  gchar* owner = g_dbus_proxy_get_name_owner(proxy);
  const bool present = owner != nullptr;
  g_free(owner);
  g_object_unref(service);
  if (!present) return nullptr;
  return std::make_unique<LibsecretService>();
}

}  // namespace charta::platform
