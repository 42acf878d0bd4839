//! Specimen store, hashes, PE/UPX/strings/IOC extraction, signature scans, known/unknown, families.
