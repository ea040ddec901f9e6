#!/usr/bin/env python3
"""Writes a synthetic Apple Health export.xml of about SIZE_MB megabytes to stdout, in the real file's shape:
mostly heart-rate and step records (which the importer passes over), plus 5-minute blood glucose (alternating
mg/dL and mmol), nightly sleep stages, daily workouts and meals."""
import sys
from datetime import datetime, timedelta, timezone

size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
limit = size_mb * 1024 * 1024
out = sys.stdout
written = 0


def emit(text):
    global written
    out.write(text)
    written += len(text)


emit('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE HealthData [\n<!-- HealthKit Export Version: 14 -->\n'
     '<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>\n]>\n'
     '<HealthData locale="en_US">\n <ExportDate value="2026-11-25 03:00:00 +0000"/>\n'
     ' <Me HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexNotSet"/>\n')
fmt = "%Y-%m-%d %H:%M:%S +0000"
day = datetime(2015, 1, 1, tzinfo=timezone.utc)
while written < limit:
    d = lambda minutes: (day + timedelta(minutes=minutes)).strftime(fmt)
    chunk = []
    for m in range(0, 1440, 5):
        t = d(m)
        chunk.append(f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" sourceVersion="10.3" '
                     f'device="&lt;&lt;HKDevice: 0x2829&gt;, name:Apple Watch&gt;" unit="count/min" creationDate="{t}" '
                     f'startDate="{t}" endDate="{t}" value="{60 + m % 40}">\n'
                     f'  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n </Record>\n')
        chunk.append(f' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Phone" sourceVersion="17.3" '
                     f'unit="count" creationDate="{t}" startDate="{t}" endDate="{d(m + 5)}" value="{m % 300}"/>\n')
        if m % 10 == 0:
            chunk.append(f' <Record type="HKQuantityTypeIdentifierBloodGlucose" sourceName="Dexcom G7" sourceVersion="2.1" '
                         f'unit="mg/dL" creationDate="{t}" startDate="{t}" endDate="{t}" value="{90 + m % 120}"/>\n')
        else:
            chunk.append(f' <Record type="HKQuantityTypeIdentifierBloodGlucose" sourceName="Health" sourceVersion="17.3" '
                         f'unit="mmol&lt;180.1558800000541&gt;/L" creationDate="{t}" startDate="{t}" endDate="{t}" '
                         f'value="{5 + (m % 60) / 10:.1f}"/>\n')
    for start, end, stage in [(-120, -90, "InBed"), (-90, 60, "AsleepCore"), (60, 150, "AsleepDeep"),
                              (150, 250, "AsleepREM"), (250, 270, "Awake"), (270, 390, "AsleepCore")]:
        chunk.append(f' <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Watch" sourceVersion="10.3" '
                     f'creationDate="{d(400)}" startDate="{d(start)}" endDate="{d(end)}" '
                     f'value="HKCategoryValueSleepAnalysis{stage}"/>\n')
    for meal, carbs in [(480, 40), (750, 65), (1140, 80)]:
        chunk.append(f' <Record type="HKQuantityTypeIdentifierDietaryCarbohydrates" sourceName="MyFitnessPal" '
                     f'sourceVersion="23" unit="g" creationDate="{d(meal)}" startDate="{d(meal)}" endDate="{d(meal)}" value="{carbs}"/>\n')
    chunk.append(f' <Workout workoutActivityType="HKWorkoutActivityTypeCycling" duration="42.5" durationUnit="min" '
                 f'sourceName="Watch" sourceVersion="10.3" creationDate="{d(1100)}" startDate="{d(1060)}" endDate="{d(1102)}">\n'
                 f'  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" startDate="{d(1060)}" '
                 f'endDate="{d(1102)}" sum="310" unit="kcal"/>\n </Workout>\n')
    emit("".join(chunk))
    day += timedelta(days=1)
emit("</HealthData>\n")
