"""Who is who: clinic settings (a file), patients and clinicians (compacted topics)."""
