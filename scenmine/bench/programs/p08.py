# the vehicle behind another vehicle being crossed by a jaywalking pedestrian (refav_parity program p08)
description = 'the vehicle behind another vehicle being crossed by a jaywalking pedestrian'
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
peds_on_road = on_road(peds, log_dir)
jaywalking_peds = scenario_not(at_pedestrian_crossing)(peds_on_road, log_dir)


vehicles = get_objects_of_category(log_dir, category='VEHICLE')
moving_vehicles = scenario_and([in_drivable_area(vehicles, log_dir), scenario_not(stationary)(vehicles, log_dir)])
crossed_vehicles = being_crossed_by(moving_vehicles, jaywalking_peds, log_dir)
#a distance of 25 is fairly arbitrary but around the reasonable distance to be considered following behind
behind_crossed_vehicle = get_objects_in_relative_direction(crossed_vehicles, moving_vehicles, log_dir, direction='backward', max_number=1, within_distance=25)
output_scenario(behind_crossed_vehicle, description, log_dir, output_dir)
