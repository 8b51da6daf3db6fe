use chrono::{DateTime, Utc};

use super::RuntimeSettings;
use crate::wire::SystemOverview;

pub fn system_overview(
    settings: &RuntimeSettings,
    reminders: &super::settings::ReminderSettings,
    now: DateTime<Utc>,
) -> SystemOverview {
    let local = now.with_timezone(&settings.timezone.tz());
    SystemOverview {
        version: crate::VERSION.to_owned(),
        timezone: settings.timezone.name().to_owned(),
        local_time: local.format("%Y-%m-%d %H:%M:%S").to_string(),
        utc_offset: local.format("%:z").to_string(),
        reminder_enabled: reminders.reminder_enabled,
        work_overtime_min: reminders.work_overtime.into(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::Timezone;

    fn settings(zone: &str) -> RuntimeSettings {
        RuntimeSettings::new(Timezone::parse(zone).expect("zone"))
    }

    fn reminders() -> super::super::settings::ReminderSettings {
        super::super::settings::test_settings(
            super::super::settings::PinnedSettings::default()
                .with("reminder_enabled", "false")
                .with("work_overtime", "30"),
        )
    }

    #[test]
    fn overview_shows_wall_clock_time_in_the_configured_zone() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 23, 1, 2, 3)
            .single()
            .expect("instant");
        let overview = system_overview(&settings("Asia/Shanghai"), &reminders(), now);
        assert_eq!(overview.local_time, "2026-11-23 09:02:03");
        assert_eq!(overview.utc_offset, "+08:00");
        assert_eq!(overview.work_overtime_min, 30);
        assert!(!overview.reminder_enabled);
    }

    #[test]
    fn overview_follows_daylight_saving() {
        let summer = Utc
            .with_ymd_and_hms(2026, 7, 1, 12, 0, 0)
            .single()
            .expect("instant");
        let winter = Utc
            .with_ymd_and_hms(2026, 1, 1, 12, 0, 0)
            .single()
            .expect("instant");
        assert_eq!(
            system_overview(&settings("Europe/Berlin"), &reminders(), summer).utc_offset,
            "+02:00"
        );
        assert_eq!(
            system_overview(&settings("Europe/Berlin"), &reminders(), winter).utc_offset,
            "+01:00"
        );
    }
}
