SELECT day, working FROM onemap.case_calendar
