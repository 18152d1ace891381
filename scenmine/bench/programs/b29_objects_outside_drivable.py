description = 'pedestrian outside the drivable area but on the road map'
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
off = scenario_not(in_drivable_area)(peds, log_dir)
result = scenario_and([off, near_intersection(peds, log_dir, threshold=20)])
output_scenario(result, description, log_dir, output_dir)
