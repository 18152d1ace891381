# bicycle in a bike lane (refav_parity program p41)
description = 'bicycle in a bike lane'
bicycles = scenario_or([get_objects_of_category(log_dir, category='BICYCLE'),
                        get_objects_of_category(log_dir, category='BICYCLIST')])
bicycles_in_bike_lane = on_lane_type(bicycles, log_dir, lane_type='BIKE')
output_scenario(bicycles_in_bike_lane, description, log_dir, output_dir)
