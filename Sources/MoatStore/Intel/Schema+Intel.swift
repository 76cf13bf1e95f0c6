import GRDB

extension Schema {
    /// Shared intelligence: TAXII collections' objects (every version), status resources, indicators
    /// received from peers, and where each pull left off.
    static func registerIntel(_ m: inout DatabaseMigrator) {
        m.registerMigration("intel-v1") { db in
            try db.execute(sql: """
                CREATE TABLE intel_objects (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    collection TEXT NOT NULL,
                    id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    version TEXT NOT NULL,
                    version_us INTEGER NOT NULL,
                    spec_version TEXT NOT NULL,
                    tlp_rank INTEGER NOT NULL,
                    date_added_us INTEGER NOT NULL,
                    json TEXT NOT NULL,
                    UNIQUE (collection, id, version_us)
                );
                CREATE INDEX intel_objects_added ON intel_objects(collection, date_added_us);

                CREATE TABLE intel_status (
                    id TEXT PRIMARY KEY,
                    owner TEXT NOT NULL,
                    json TEXT NOT NULL
                );

                CREATE TABLE intel_received (
                    source TEXT NOT NULL,
                    id TEXT NOT NULL,
                    version TEXT NOT NULL,
                    version_us INTEGER NOT NULL,
                    tlp TEXT,
                    confidence INTEGER,
                    producer TEXT,
                    valid_from_ms INTEGER,
                    valid_until_ms INTEGER,
                    received_at_ms INTEGER NOT NULL,
                    json TEXT NOT NULL,
                    PRIMARY KEY (source, id)
                );
                CREATE INDEX intel_received_until ON intel_received(valid_until_ms);

                CREATE TABLE intel_pull (
                    source TEXT PRIMARY KEY,
                    added_after TEXT NOT NULL
                );
                """)
        }
    }
}
